"""What a steward sees in Marquez after real runs, asked through Marquez's own API.

The whole asset graph runs once through Dagster into the Marquez stand-in (tests/lineage/
marquez.py, which applies Marquez 0.51.1's ingest and storage rules), from a data folder whose
path holds a space and a non-ASCII letter; 3% of the customers have a malformed e-mail (a
warn-only quarantine). Then an orders batch is blocked by its contract, and a dbt build's mart
fails. Every assertion reads what Marquez would show: the lineage graph, datasets with their
descriptions, fields and tags, jobs and their runs. The same questions against the real server
are in test_marquez_server.py (skipped where no Marquez jar is at hand).

Real parts: Dagster's `materialize`, the sandbox API over HTTP, the embedded PostgreSQL, DuckDB,
the dbt CLI, the project's lineage resource over HTTP (events and the tag API).
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import pytest

from assets import EXTRACTION_SPECS
from assets import defs as asset_defs
from assets.transformer.results import column_types
from lineage import naming
from lineage.dagster_run import report_run, ship_finished
from lineage.dbt import emit_dbt_run
from lineage.naming import NAMESPACE, postgres_table, warehouse_table
from resources.lineage import LineageResource
from resources.transformer import TRANSFORMER_DIR, manifest_path, transformer_project
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import pipeline_resources, sandbox_config
from tests.lineage.marquez import running_marquez

pytestmark = pytest.mark.slow

MART = "mart_complete_purchase_order"
BAD_EMAILS = {"endpoint": "customers", "kind": "malformed_email", "fraction": 0.03}
NEGATIVE_TOTALS = {"endpoint": "orders", "kind": "negative_total", "fraction": 0.3}


def get(url: str, path: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/v1/{path}", timeout=10) as answer:
        return json.load(answer)


def dataset(url: str, namespace: str, name: str) -> dict:
    return get(url, f"namespaces/{quote(namespace, safe='')}/datasets/{quote(name, safe='')}")


def upstream(url: str, namespace: str, name: str) -> set[str]:
    """Every node the graph leads to `dataset:namespace:name` from, following its edges back."""
    graph = get(url, f"lineage?nodeId={quote(f'dataset:{namespace}:{name}', safe='')}"
                     "&depth=20")["graph"]
    into = {node["id"]: [edge["origin"] for edge in node["inEdges"]] for node in graph}
    found, todo = set(), [f"dataset:{namespace}:{name}"]
    while todo:
        for origin in into.get(todo.pop(), []):
            if origin not in found:
                found.add(origin)
                todo.append(origin)
    return found


def column_upstream(url: str, namespace: str, name: str, column: str) -> set[tuple[str, str]]:
    """(dataset, field) of every field Marquez's column lineage leads `column` back to. A
    field's `outEdges` go to the fields computed from it (its own `inEdges` name only itself)."""
    start = f"datasetField:{namespace}:{name}:{column}"
    graph = get(url, f"column-lineage?nodeId={quote(start, safe='')}&depth=20")["graph"]
    into: dict[str, list[str]] = {}
    for node in graph:
        for edge in node["outEdges"]:
            into.setdefault(edge["destination"], []).append(node["id"])
    found, todo = set(), [start]
    while todo:
        for origin in into.get(todo.pop(), []):
            if origin not in found:
                found.add(origin)
                todo.append(origin)
    prefix = f"datasetField:{namespace}:"
    return {tuple(node[len(prefix):].rsplit(":", 1)) for node in found if node.startswith(prefix)}


@pytest.fixture(scope="module", params=["stand-in", "real Marquez"])
def marquez(request):
    """(URL, the stand-in or None): the same questions to the stand-in and to the real Marquez
    (`real_marquez`, skipped where no jar can be had: docs/marquez.md)."""
    if request.param == "stand-in":
        with running_marquez() as stand_in:
            yield stand_in.url, stand_in
    else:
        yield request.getfixturevalue("real_marquez").url, None


@pytest.fixture(scope="module")
def seen(marquez, tmp_path_factory, wise_postgres):
    """Marquez after: the whole graph (with bad e-mails), a blocked orders batch, a failed mart."""
    url, stand_in = marquez
    data_dir = tmp_path_factory.mktemp("marquez view") / "données du shop"
    events_file = data_dir / "lineage" / "events.jsonl"
    # a generous timeout: a just-started Marquez (cold JVM) answers its first events slowly
    # As the definitions bind it: the steps write to the outbox, the run's end ships it.
    lineage = LineageResource(url=url, file_path=str(events_file), timeout_s=30,
                              outbox=str(data_dir / "lineage" / "outbox"))
    instance = dg.DagsterInstance.ephemeral()
    with running_sandbox(sandbox_config([BAD_EMAILS])) as api:
        resources = pipeline_resources(api, wise_postgres, data_dir)
        resources["lineage"] = lineage
        first = dg.materialize(list(asset_defs().assets), resources=resources,
                               instance=instance)
        own = [report_run(lineage.emitter(), instance, first.dagster_run)]
        shipments = [ship_finished(lineage, instance)]
        store_hash = api.store_hash
    graph_after_success = upstream(url, *_mart(data_dir))
    with running_sandbox(sandbox_config([NEGATIVE_TOTALS])) as api:
        resources["bigcommerce"] = pipeline_resources(api, wise_postgres,
                                                      data_dir)["bigcommerce"]
        blocked = dg.materialize([a for a in asset_defs().assets
                                  if "src_order" in {k.path[-1] for k in a.keys}],
                                 resources=resources, instance=instance,
                                 selection=["src_order"], raise_on_error=False)
        own.append(report_run(lineage.emitter(), instance, blocked.dagster_run))
        shipments.append(ship_finished(lineage, instance))
    failed_mart = _emit_a_failed_mart(url, first.dagster_run, data_dir / "warehouse.duckdb",
                                      tmp_path_factory)
    return {"url": url, "stand_in": stand_in, "data": data_dir, "first": first,
            "blocked": blocked, "store_hash": store_hash, "failed_mart": failed_mart,
            "graph_after_success": graph_after_success, "runs_own_events": own,
            "shipments": shipments,
            "deliveries": _deliveries(instance, first.dagster_run, blocked.dagster_run),
            "events": [json.loads(line) for line in events_file.read_text().splitlines()]}


def health(shown: dict) -> str | None:
    """What Marquez's UI makes of a dataset's assertions: any failed one is UNHEALTHY."""
    assertions = shown["facets"].get("dataQualityAssertions", {}).get("assertions", [])
    if not assertions:
        return None
    return "HEALTHY" if all(a["success"] for a in assertions) else "UNHEALTHY"


def _mart(data_dir: Path) -> tuple[str, str]:
    mart = warehouse_table(data_dir / "warehouse.duckdb", "analytics", MART)
    return mart.namespace, mart.name


def _deliveries(instance: dg.DagsterInstance, *runs: dg.DagsterRun) -> list[tuple[int, int]]:
    """(sent, failed) of each step's lineage, as its log says ("lineage: 2 sent, 0 failed")."""
    said = [entry.user_message for run in runs for entry in instance.all_logs(run.run_id)]
    return [(int(sent), int(failed)) for line in said
            for sent, failed in re.findall(r"lineage: (\d+) sent, (\d+) failed", line)]


def _emit_a_failed_mart(url: str, run: dg.DagsterRun, warehouse: Path,
                        tmp_path_factory) -> int:
    """The first build's artifacts with the mart marked as errored, sent as a later build."""
    artifacts = max((p.parent for p in (TRANSFORMER_DIR / "target").glob("*/run_results.json")),
                    key=lambda folder: (folder / "run_results.json").stat().st_mtime)
    target = shutil.copytree(artifacts, tmp_path_factory.mktemp("failed_mart") / "target")
    results = json.loads((target / "run_results.json").read_text())
    for result in results["results"]:
        if result["unique_id"].endswith(f".{MART}"):
            result["status"], result["message"] = "error", "boom"
    (target / "run_results.json").write_text(json.dumps(results))
    emitter = LineageResource(url=url, timeout_s=30).emitter()
    return emit_dbt_run(emitter, TRANSFORMER_DIR, TRANSFORMER_DIR, "local", run.job_name,
                        str(uuid.uuid4()), target_path=target,
                        column_types=column_types(warehouse))


def _staged(seen: dict, asset: str) -> tuple[str, str]:
    """The staging folder dataset of an extraction, where its audits' assertions land."""
    spec = next(spec for spec in EXTRACTION_SPECS if spec.name == asset)
    from resources.raw_zone import RawZone

    zone = RawZone(seen["data"] / "raw", seen["data"] / "warehouse.duckdb")
    staged = naming.staged_batches(zone, spec.ref)
    return staged.namespace, staged.name


def test_a_data_folder_with_a_space_and_accents_gives_namespaces_marquez_takes(seen):
    """Every event of the three runs was taken: no step logged a failed delivery (the staging
    folder's source URI once made Marquez answer 500 to every extraction event). The
    warehouse's namespace spells the folder's space and accents as +XX, which Marquez keeps
    as it is: its namespace list holds only the namespaces the events name."""
    namespace, _ = _mart(seen["data"])
    assert "+20" in namespace and "donn+C3+A9es+20du+20shop" in namespace
    deliveries = seen["deliveries"]
    assert len(deliveries) > 9 and all(failed == 0 for _, failed in deliveries), deliveries
    assert seen["runs_own_events"] == [2, 2] and seen["failed_mart"] > 0
    shipped = [(s.sent > 0, s.rejected, s.kept, s.unavailable) for s in seen["shipments"]]
    assert shipped == [(True, 0, 0, "")] * 2, [s.summary() for s in seen["shipments"]]
    assert not list((seen["data"] / "lineage" / "outbox").glob("*.jsonl"))
    named = {NAMESPACE, "default"} | {d["namespace"] for e in seen["events"]
                                      for d in [*e["inputs"], *e["outputs"]]}
    listed = get(seen["url"], "namespaces?limit=100")["namespaces"]
    assert {n["name"] for n in listed} <= named
    if seen["stand_in"] is not None:
        assert seen["stand_in"].rejected == []
        # the file's events, then the failed mart's build (sent to Marquez only)
        assert len(seen["stand_in"].accepted) > len(seen["events"]) > 100
    sent = {d["name"] for e in seen["events"] for d in [*e["inputs"], *e["outputs"]]
            if d["namespace"] == namespace}
    listed = get(seen["url"], f"namespaces/{quote(namespace, safe='')}/datasets?limit=1000")
    assert {d["name"] for d in listed["datasets"]} == sent and len(sent) > 25


def test_the_graph_reaches_every_source_and_stays_whole_after_a_blocked_batch_and_a_failed_mart(
        seen):
    """From the mart back through the models and raw tables to the BigCommerce endpoints and
    the PostgreSQL tables; the same raw tables and models after the orders batch was blocked
    and the mart's build failed (each FAIL still names its output)."""
    namespace, mart = _mart(seen["data"])
    before = seen["graph_after_success"]
    after = upstream(seen["url"], namespace, mart)
    orders = warehouse_table(seen["data"] / "warehouse.duckdb", "raw_bigcommerce", "orders")
    assert f"dataset:{orders.namespace}:{orders.name}" in before
    assert any(node.startswith("dataset:http://127.0.0.1:") and node.endswith(
        f"stores/{seen['store_hash']}/v2/orders") for node in before)
    # the purchases mart reads no PostgreSQL table; the customer value mart does (points)
    points = postgres_table("postgresql://localhost:5432/wise", "point_transaction")
    value = upstream(seen["url"], namespace, mart.replace(MART, "mart_customer_value"))
    assert [n for n in value if n.endswith(f":{points.name}")] != []
    raw_and_models = {n for n in before if n.startswith(f"dataset:{namespace}:")}
    assert len(raw_and_models) > 12
    assert raw_and_models <= after
    producers = {n for n in after if n.startswith("job:") and n.endswith(".src_order")}
    assert producers, "the blocked extraction's job is no longer upstream of the mart"
    assert not seen["blocked"].success and seen["failed_mart"] > 0
    job = get(seen["url"], f"namespaces/{NAMESPACE}/jobs/"
                           f"{quote(producers.pop().split(':', 2)[2], safe='')}")
    assert job["latestRun"]["state"] == "FAILED"


def test_every_raw_table_and_model_keeps_its_description_and_lists_each_field_once(seen):
    manifest = json.loads(manifest_path(transformer_project()).read_text())
    namespace, _ = _mart(seen["data"])
    tables = [f"warehouse.{node['schema']}.{node.get('identifier') or node['name']}"
              for kind in ("nodes", "sources") for node in manifest[kind].values()
              if node["resource_type"] in ("model", "source")]
    assert len(tables) > 25
    for name in tables:
        shown = dataset(seen["url"], namespace, name)
        assert shown["description"], f"{name} has no description in Marquez"
        names = [field["name"] for field in shown["fields"]]
        assert names and len(names) == len(set(names)), f"{name} lists a field twice"


def test_pii_classes_are_marquez_tags_on_the_fields_once_each(seen):
    """Through the tag API: Marquez shows field tags in upper case."""
    namespace, _ = _mart(seen["data"])
    customer = dataset(seen["url"], namespace, "warehouse.analytics.dim_customer")
    tags = {field["name"]: field["tags"] for field in customer["fields"]}
    assert tags["email"] == ["PII:EMAIL"]
    assert tags["customer_id"] == []
    raw = dataset(seen["url"], namespace, "warehouse.raw_bigcommerce.customers")
    assert {field["name"]: field["tags"] for field in raw["fields"]}["email"] == ["PII:EMAIL"]


def test_a_blocked_batch_and_a_warn_only_finding_both_make_the_audited_dataset_unhealthy(seen):
    """As the README chose: any failed assertion is UNHEALTHY; whether the batch was published
    is the extraction's run state (customers COMPLETED with quarantined rows, orders FAILED)."""
    orders = dataset(seen["url"], *_staged(seen, "src_order"))
    assert health(orders) == "UNHEALTHY"
    failing = [a for a in orders["facets"]["dataQualityAssertions"]["assertions"]
               if not a["success"]]
    assert any(a.get("column") == "total_inc_tax" for a in failing)
    customers = dataset(seen["url"], *_staged(seen, "src_customer"))
    assert health(customers) == "UNHEALTHY"
    failing = [a for a in customers["facets"]["dataQualityAssertions"]["assertions"]
               if not a["success"]]
    assert failing and {a["severity"] for a in failing} == {"warn"}  # it blocked nothing
    assert {a["column"] for a in failing} == {"email"}
    name = f"{seen['first'].dagster_run.job_name}.src_customer"
    job = get(seen["url"], f"namespaces/{NAMESPACE}/jobs/{quote(name, safe='')}")
    assert job["latestRun"]["state"] == "COMPLETED"


def test_the_dagster_run_is_the_parent_job_with_its_own_start_and_complete(seen):
    """Each Dagster run is a run of the parent job, closed by its own events: the first
    COMPLETED, the blocked one FAILED; the steps are its children `<job>.<step job>`."""
    first, blocked = seen["first"].dagster_run, seen["blocked"].dagster_run
    assert get(seen["url"], f"jobs/runs/{first.run_id}")["state"] == "COMPLETED"
    assert get(seen["url"], f"jobs/runs/{blocked.run_id}")["state"] == "FAILED"
    jobs = get(seen["url"], f"namespaces/{NAMESPACE}/jobs")["jobs"]
    assert first.job_name in {job["name"] for job in jobs}
    children = [job for job in jobs if job.get("parentJobName") == first.job_name]
    assert len(children) > 20
    assert all(job["name"].startswith(f"{first.job_name}.") for job in children)


def test_column_lineage_of_line_total_krw_reaches_the_raw_columns_it_is_computed_from(seen):
    """Marquez's own column lineage, from the mart's KRW line total back through the models to
    the raw zone's columns (the same four the events' facets name: test_dbt_lineage.py)."""
    if seen["stand_in"] is not None:
        pytest.skip("the stand-in does not serve /api/v1/column-lineage; the real Marquez does")
    namespace, mart = _mart(seen["data"])
    reached = column_upstream(seen["url"], namespace, mart, "line_total_krw")
    raw = {(name.split(".", 1)[1], column) for name, column in reached
           if ".raw_bigcommerce." in name}
    assert raw == {("raw_bigcommerce.order_products", "total_ex_tax"),
                   ("raw_bigcommerce.orders", "default_currency_code"),
                   ("raw_bigcommerce.orders", "store_default_currency_code"),
                   ("raw_bigcommerce.orders", "store_default_to_transactional_exchange_rate")}
    assert ("warehouse.analytics.fct_order_item", "line_total") in reached
