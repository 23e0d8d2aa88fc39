"""Extraction runs as OpenLineage sees them: every event to the spec, to Marquez, and clean.

Real parts throughout: the sandbox API and the embedded PostgreSQL, Dagster's `materialize`, the
OpenLineage client with its file and HTTP transports, a loopback receiver enforcing Marquez's
ingest rules, and the official JSON Schemas.
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from assets import EXTRACTION_ASSETS
from lineage.extraction import SCHEDULED_TAG
from lineage.naming import NAMESPACE
from resources.bigcommerce import BigCommerceResource
from resources.lineage import LineageResource
from resources.postgres import PostgresResource
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import extraction_resources, lineage_file, sandbox_config
from tests.lineage.marquez import running_marquez
from tests.lineage.spec import validate_event

pytestmark = pytest.mark.slow

PG_PASSWORD = "Pg-s3cret-pw"  # the sandbox trusts local clients, so any password connects
SCHEDULED = "2026-11-27T03:00:00+09:00"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def events_in(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def materialize(resources: dict, names: set[str] | None = None, **kwargs):
    assets = [a for a in EXTRACTION_ASSETS if names is None or a.key.to_user_string() in names]
    return dg.materialize(assets, resources=resources, raise_on_error=False, **kwargs)


def with_password(url: str) -> str:
    return url.replace("gov_reader@", f"gov_reader:{PG_PASSWORD}@", 1)


def resources_for(api, wise_postgres, tmp_path: Path, url: str | None = None) -> dict:
    resources = extraction_resources(api, wise_postgres, tmp_path)
    resources["wise_postgres"] = PostgresResource(url=with_password(wise_postgres.reader_url))
    resources["lineage"] = LineageResource(file_path=str(lineage_file(tmp_path)), url=url)
    return resources


def personal_values(dataset, wise_postgres) -> set[str]:
    """Every e-mail address either sandbox holds."""
    text = json.dumps({name: value for name, value in vars(dataset).items()}, default=str)
    with psycopg.connect(wise_postgres.admin_url) as connection:
        text += json.dumps(connection.execute("SELECT contact_email FROM quotation").fetchall())
    return set(EMAIL.findall(text)) - {""}


def assert_clean(events: list[dict], secrets: list[str], personal: set[str]) -> None:
    text = json.dumps(events)
    for secret in secrets:
        assert secret not in text
    leaked = {value for value in personal if value in text}
    assert not leaked, sorted(leaked)[:3]


def test_every_extraction_reports_to_the_spec_and_to_marquez_with_nothing_secret(
    tmp_path, wise_postgres
):
    """Eight assets, each one START and one COMPLETE run of its own job, parented by the Dagster
    run: the raw table as output with its statistics and contract facets, the source and the
    audited batch as inputs. File and receiver hold the same events; Marquez rejects none."""
    with running_sandbox(sandbox_config()) as api, running_marquez() as marquez:
        resources = resources_for(api, wise_postgres, tmp_path, marquez.url)
        result = materialize(resources, tags={SCHEDULED_TAG: SCHEDULED})
        personal = personal_values(api.dataset, wise_postgres)
    assert result.success
    events = events_in(lineage_file(tmp_path))
    assert len(events) == 2 * len(EXTRACTION_ASSETS)
    checked = [validate_event(event) for event in events]
    assert any("dataQualityAssertions" in key for keys in checked for key in keys)
    assert marquez.rejected == [] and marquez.accepted == events
    assert_clean(events, [api.access_token, PG_PASSWORD], personal)
    assert len(personal) > 50  # the check above had something to find

    for asset in EXTRACTION_ASSETS:
        name = asset.key.to_user_string()
        start, complete = [e for e in events if e["job"]["name"] == name]
        assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
        assert start["run"]["runId"] == complete["run"]["runId"] != result.run_id
        assert start["job"]["namespace"] == NAMESPACE
        assert start["job"]["facets"]["jobType"]["integration"] == "DAGSTER"
        parent = complete["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == result.run_id
        assert parent["job"] == {"namespace": NAMESPACE, "name": result.dagster_run.job_name,
                                 "facets": {}}
        assert complete["run"]["facets"]["nominalTime"]["nominalStartTime"].startswith(
            "2026-11-26T18:00:00")
        assert "errorMessage" not in complete["run"]["facets"]

        (output,) = complete["outputs"]
        rows = result.asset_materializations_for_node(name)[0].metadata["dagster/row_count"]
        assert output["outputFacets"]["outputStatistics"]["rowCount"] == rows.value
        assert output["outputFacets"]["outputStatistics"]["size"] > 0
        assert output["name"].startswith("warehouse.raw_")
        assert {"schema", "tags", "ownership", "documentation", "dataSource"} <= set(
            output["facets"])
        source, staged = complete["inputs"]
        # START names the same datasets (Marquez takes every event's as the job's current
        # version), without what only the end can know: quality and statistics
        assert [(i["namespace"], i["name"]) for i in start["inputs"]] == [
            (source["namespace"], source["name"]), (staged["namespace"], staged["name"])]
        assert start["inputs"][1].get("inputFacets", {}) == {}
        (started,) = start["outputs"]
        assert (started["name"], started["facets"]) == (output["name"], output["facets"])
        assert "outputStatistics" not in started.get("outputFacets", {})
        quality = staged["inputFacets"]
        assert all(a["success"] for a in quality["dataQualityAssertions"]["assertions"])
        assert quality["dataQualityMetrics"]["rowCount"] == rows.value
        if name.startswith("src_point") or name.startswith("src_quot"):
            assert (source["namespace"], source["name"].split(".")[0]) == (
                "postgres://localhost:5432", "wise")
        else:
            assert source["namespace"] == api.base_url
            assert source["name"].startswith(f"stores/{api.store_hash}/v")


def test_a_blocked_batch_fails_with_its_broken_rules_and_is_no_published_output(
    tmp_path, wise_postgres
):
    """30% of orders with negative totals: over the 1% limit, so the batch is blocked. Its FAIL
    says why, its audited batch carries the failing assertions as errors, and it names the raw
    table as its START did (so Marquez keeps the job as the table's producer), with no output
    statistics: nothing was published; the quarantine did receive rows, and says how many."""
    fault = {"endpoint": "orders", "kind": "negative_total", "fraction": 0.3}
    with running_sandbox(sandbox_config([fault])) as api, running_marquez() as marquez:
        resources = resources_for(api, wise_postgres, tmp_path, marquez.url)
        result = materialize(resources, {"src_order"})
        personal = personal_values(api.dataset, wise_postgres)
    assert not result.success
    events = events_in(lineage_file(tmp_path))
    for event in events:
        validate_event(event)
    assert marquez.rejected == [] and marquez.accepted == events
    assert_clean(events, [api.access_token], personal)

    start, fail = events
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    error = fail["run"]["facets"]["errorMessage"]
    assert error["programmingLanguage"] == "python"
    assert "blocked by its contract" in error["message"] and "total" in error["message"]
    raw, quarantine = fail["outputs"]
    assert raw["name"] == "warehouse.raw_bigcommerce.orders" and raw.get("outputFacets", {}) == {}
    assert [(o["namespace"], o["name"]) for o in start["outputs"]] == [
        (raw["namespace"], raw["name"])]
    assert quarantine["name"] == "warehouse.quarantine.bigcommerce__orders"
    assert quarantine["outputFacets"]["outputStatistics"]["rowCount"] > 0
    (staged,) = [i for i in fail["inputs"] if "dataQualityAssertions" in i["inputFacets"]]
    failing = [a for a in staged["inputFacets"]["dataQualityAssertions"]["assertions"]
               if not a["success"] and a["params"].get("level") != "warn"]
    assert failing and {a["severity"] for a in failing} == {"error"}
    assert any(a["column"] == "total_inc_tax" for a in failing)


def test_a_crashed_extraction_fails_with_its_error_and_no_output(tmp_path, wise_postgres):
    """Every customers page is cut short: the step raises, the run's FAIL carries the error's
    type and message (without the token), and names the raw table with no statistics."""
    fault = {"endpoint": "customers", "kind": "truncated_body", "fraction": 1.0}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = resources_for(api, wise_postgres, tmp_path)
        resources["bigcommerce"] = BigCommerceResource(
            store_hash=api.store_hash, access_token=api.access_token, base_url=api.base_url,
            max_retries=1)
        result = materialize(resources, {"src_customer"})
    assert not result.success
    start, fail = events_in(lineage_file(tmp_path))
    validate_event(fail)
    assert fail["eventType"] == "FAIL" and fail["outputs"] == start["outputs"]
    assert [o["name"] for o in fail["outputs"]] == ["warehouse.raw_bigcommerce.customers"]
    assert fail["outputs"][0].get("outputFacets", {}) == {}
    message = fail["run"]["facets"]["errorMessage"]["message"]
    assert "v3/customers" in message and api.access_token not in json.dumps([start, fail])


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_marquez_down_costs_the_run_nothing_but_is_counted(tmp_path, wise_postgres):
    """With the HTTP endpoint a closed port, the run still succeeds, about as fast as with the
    file alone; the step log counts the failed deliveries and the file still has every event."""
    names = {"src_point_transaction", "src_quotation"}
    with running_sandbox(sandbox_config()) as api:
        baseline = resources_for(api, wise_postgres, tmp_path / "file-only")
        began = time.monotonic()
        assert materialize(baseline, names).success
        file_only = time.monotonic() - began

        resources = resources_for(api, wise_postgres, tmp_path / "down",
                                  url=f"http://127.0.0.1:{closed_port()}")
        instance = dg.DagsterInstance.ephemeral()
        began = time.monotonic()
        result = materialize(resources, names, instance=instance)
        down = time.monotonic() - began
    assert result.success
    assert down < file_only + 3.0, (down, file_only)
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    counts = [m for m in messages if m.startswith("lineage: ")]
    assert len(counts) == 2 and all(m.startswith("lineage: 0 sent, 2 failed") for m in counts)
    events = events_in(lineage_file(tmp_path / "down"))
    assert [e["eventType"] for e in events].count("COMPLETE") == 2


def test_a_dropped_quotation_file_is_its_own_job_feeding_the_same_raw_table(tmp_path):
    """The file import op reports as `import_quotation_csv`: the file as input, the quotations
    raw table (the node `src_quotation` also writes) as output."""
    import csv

    from automation.quotation_import import import_quotation_file
    from resources.raw_zone import RawZoneResource
    from tests.automation.test_quotation_import import COLUMNS, row

    path = tmp_path / "quotes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(row(str(9001 + n)) for n in range(3))
    events_file = tmp_path / "events.jsonl"
    result = import_quotation_file.execute_in_process(
        run_config={"ops": {"import_quotation_csv": {"config": {"path": str(path)}}}},
        resources={"raw_zone": RawZoneResource(root=str(tmp_path / "raw"),
                                               warehouse=str(tmp_path / "warehouse.duckdb")),
                   "lineage": LineageResource(file_path=str(events_file))},
    )
    assert result.success
    start, complete = events_in(events_file)
    for event in (start, complete):
        validate_event(event)
        assert event["job"]["name"] == "import_quotation_csv"
    assert (start["inputs"][0]["namespace"], start["inputs"][0]["name"]) == ("file", str(path))
    (output,) = complete["outputs"]
    assert output["name"] == "warehouse.raw_wise.quotations"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert complete["run"]["facets"]["parent"]["job"]["name"] == "import_quotation_file"
    assert "doyun@example.com" not in json.dumps([start, complete])
