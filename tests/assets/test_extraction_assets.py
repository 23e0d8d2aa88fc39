"""Materializing the extraction assets through Dagster against the sandbox and embedded PostgreSQL.

Real parts throughout: the sandbox API over loopback HTTP, pgserver, Parquet and DuckDB in
`tmp_path`, and Dagster's own `materialize`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest

from assets import EXTRACTION_ASSETS
from resources.bigcommerce import BigCommerceResource
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import (
    SIZE,
    expected_counts,
    extraction_resources,
    published_counts,
    sandbox_config,
    zone_ref,
)

pytestmark = pytest.mark.slow


def materialize(resources: dict, selection=None, **config) -> dg.ExecuteInProcessResult:
    run_config = {
        "ops": {a.key.to_python_identifier(): {"config": config} for a in EXTRACTION_ASSETS}
    } if config else None
    assets = EXTRACTION_ASSETS if selection is None else [
        a for a in EXTRACTION_ASSETS if a.key.to_user_string() in selection
    ]
    return dg.materialize(assets, resources=resources, run_config=run_config,
                          raise_on_error=False)


def test_every_extraction_asset_materializes_every_record(tmp_path, wise_postgres):
    """A first run reads everything: each raw table holds exactly the source's records."""
    with running_sandbox(sandbox_config()) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = materialize(resources)
        assert result.success
        expected = expected_counts(api.dataset, wise_postgres)
    zone = resources["raw_zone"].zone()
    assert published_counts(zone) == expected
    for asset in EXTRACTION_ASSETS:
        (event,) = result.asset_materializations_for_node(asset.key.to_python_identifier())
        metadata = event.metadata
        assert metadata["dagster/row_count"].value == expected[asset.key.to_user_string()][0]
        assert metadata["rows_quarantined"].value == 0
        assert metadata["window_since"].value == "everything"


def test_a_second_incremental_run_reads_only_the_window_and_duplicates_nothing(
    tmp_path, wise_postgres
):
    """The 12-hour window re-reads a slice; the current views still hold each key once."""
    with running_sandbox(sandbox_config()) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        assert materialize(resources).success
        second = materialize(resources, hours_lookback=12)
        assert second.success
        expected = expected_counts(api.dataset, wise_postgres)
    assert published_counts(resources["raw_zone"].zone()) == expected
    event = second.asset_materializations_for_node("src_order")[0]
    reread = event.metadata["dagster/row_count"].value
    assert 0 < reread < expected["src_order"][0]
    assert event.metadata["window_reason"].value == "last 12 h"


def test_records_that_do_not_parse_are_quarantined_and_the_rest_published(
    tmp_path, wise_postgres
):
    """A retyped key in some customers: those rows go to quarantine with their rule."""
    fault = {"endpoint": "customers", "kind": "retype_column", "column": "id", "to": "string",
             "fraction": 0.04}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = materialize(resources, selection={"src_customer"})
        total = len(api.dataset.customers)
    assert result.success
    metadata = result.asset_materializations_for_node("src_customer")[0].metadata
    quarantined = metadata["rows_quarantined"].value
    assert 0 < quarantined < total
    assert metadata["dagster/row_count"].value + quarantined == total
    zone = resources["raw_zone"].zone()
    with zone.reader([zone_ref("src_customer")]) as db:
        rules = db.execute(
            "SELECT _rule, _column, count(*), bool_and(json_type(record->'$.id') = 'VARCHAR') "
            "FROM quarantine.bigcommerce__customers GROUP BY ALL"
        ).fetchall()
    assert rules == [("primary_key_integer", "id", quarantined, True)]


def test_a_batch_that_mostly_fails_to_parse_is_blocked_and_nothing_is_published(
    tmp_path, wise_postgres
):
    """Every order lost its key: the step fails, the raw table stays absent, the quarantine
    is kept."""
    fault = {"endpoint": "orders", "kind": "drop_column", "column": "id"}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = materialize(resources, selection={"src_order"})
        total = len(api.dataset.orders)
    assert not result.success
    failure = result.failure_data_for_node("src_order")
    assert "blocked" in failure.error.message and "primary_key_present" in failure.error.message
    zone = resources["raw_zone"].zone()
    ref = zone_ref("src_order")
    assert not zone.paths.has_batches(ref)
    with zone.reader([ref]) as db:
        assert db.execute("SELECT count(*) FROM quarantine.bigcommerce__orders").fetchone() == (
            total,
        )


def test_sizes_line_up_between_the_two_sandboxes(wise_postgres):
    """Point transactions reference customers 1..SIZE, the same ids the API serves."""
    import psycopg

    with psycopg.connect(wise_postgres.admin_url) as connection:
        low, high = connection.execute(
            "SELECT min(customer_id), max(customer_id) FROM point_transaction"
        ).fetchone()
    assert low >= 1 and high <= SIZE


KILLABLE = """
import json, sys
import dagster as dg
from assets import EXTRACTION_ASSETS
from resources.lineage import LineageResource
from resources.bigcommerce import BigCommerceResource
from resources.postgres import PostgresResource
from resources.raw_zone import RawZoneResource
args = json.loads(sys.argv[1])
assets = [a for a in EXTRACTION_ASSETS if a.key.to_user_string() == "src_order_product"]
dg.materialize(assets, resources={
    "bigcommerce": BigCommerceResource(**args["bigcommerce"]),
    "wise_postgres": PostgresResource(url=args["postgres"]),
    "raw_zone": RawZoneResource(**args["raw_zone"]),
    "lineage": LineageResource(**args["lineage"]),
})
"""


def test_a_kill_mid_extraction_then_a_rerun_loses_nothing(tmp_path, wise_postgres):
    """kill -9 while order products stream in; the rerun publishes every item exactly once.
    The lines come with the orders listing (`order_lines`), so that is what is slowed."""
    slow = {"endpoint": "orders", "kind": "latency", "min_ms": 300, "max_ms": 400}
    with running_sandbox(sandbox_config([slow])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        assert materialize(resources, selection={"src_order"}).success
        arguments = json.dumps({
            "bigcommerce": {"store_hash": api.store_hash, "access_token": api.access_token,
                            "base_url": api.base_url, "concurrency": 2},
            "postgres": wise_postgres.reader_url,
            "raw_zone": {"root": resources["raw_zone"].root,
                         "warehouse": resources["raw_zone"].warehouse},
            "lineage": {"file_path": resources["lineage"].file_path},
        })
        victim = subprocess.Popen([sys.executable, "-c", KILLABLE, arguments],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        staging = tmp_path / "raw" / "staging" / "bigcommerce" / "order_products"
        deadline = time.monotonic() + 60
        while not any(staging.glob("*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # let it stage a few pages
        assert victim.poll() is None, "the extraction ended before it could be killed"
        victim.send_signal(signal.SIGKILL)
        assert victim.wait() == -signal.SIGKILL
        ref = zone_ref("src_order_product")
        assert not resources["raw_zone"].zone().paths.has_batches(ref)

        assert materialize(resources, selection={"src_order_product"}).success
        expected = expected_counts(api.dataset, wise_postgres)["src_order_product"]
    assert published_counts(resources["raw_zone"].zone())["src_order_product"] == expected


def test_a_body_that_never_parses_fails_the_step_clearly_and_publishes_nothing(
    tmp_path, wise_postgres
):
    """Every customers page is cut short: retries run out, the error names the endpoint."""
    fault = {"endpoint": "customers", "kind": "truncated_body", "fraction": 1.0}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        resources["bigcommerce"] = BigCommerceResource(
            store_hash=api.store_hash, access_token=api.access_token, base_url=api.base_url,
            max_retries=2,
        )
        result = materialize(resources, selection={"src_customer"})
    assert not result.success
    message = result.failure_data_for_node("src_customer").error.cause.message
    assert "v3/customers" in message and "malformed JSON body" in message
    assert not resources["raw_zone"].zone().paths.has_batches(zone_ref("src_customer"))
