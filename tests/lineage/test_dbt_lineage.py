"""dbt lineage end to end: the whole asset graph materialized once through Dagster, then its
event file read back as a steward (or Marquez) would.

One materialization serves the module (a module-scoped fixture): the dbt step emits through
the `lineage` resource into a JSON-lines file, and every test reads that file. The tests that
need no pipeline (the CLI's errors, a failed model, a lineage outage) use the same real
processor on the real run's artifacts or a small file of their own.
"""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from pathlib import Path

import dagster as dg
import pytest

from assets import defs as asset_defs
from cli.__main__ import main as cli_main
from cli.lineage import LineageGraph
from lineage.dbt import GIVE_UP_AFTER, dbt_events, emit_dbt_run
from lineage.naming import NAMESPACE, warehouse_table
from resources.lineage import LANES, LineageEmitter, LineageResource
from resources.transformer import TRANSFORMER_DIR
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import pipeline_resources, sandbox_config
from tests.lineage.marquez import running_marquez
from tests.lineage.spec import validate_event

MART = "mart_complete_purchase_order"


def _is_dbt(event: dict) -> bool:
    return event["job"].get("facets", {}).get("jobType", {}).get("integration") == "DBT"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, wise_postgres):
    """Every asset materialized once, lineage to a file and to the Marquez stand-in; the
    events, the run, what the stand-in took or refused, and the warehouse."""
    data_dir = tmp_path_factory.mktemp("dbt_lineage")
    with running_sandbox(sandbox_config()) as api, running_marquez() as marquez:
        resources = pipeline_resources(api, wise_postgres, data_dir)
        path = Path(resources["lineage"].file_path)
        resources["lineage"] = LineageResource(file_path=str(path), url=marquez.url)
        result = dg.materialize(list(asset_defs().assets), resources=resources,
                                raise_on_error=False)
    assert result.success
    events = [json.loads(line) for line in path.read_text().splitlines()]
    return {"result": result, "file": path, "events": events, "marquez": marquez,
            "dbt": [e for e in events if _is_dbt(e)], "graph": LineageGraph.from_events(events),
            "warehouse": resources["raw_zone"].warehouse}


@pytest.mark.slow
def test_every_dbt_event_is_valid_and_a_child_of_the_dagster_run(pipeline):
    """Each event passes the OpenLineage spec (core and facet schemas) and Marquez's ingest
    rules (the stand-in took every one); every model has a START and a COMPLETE, the dbt tests
    arrive as quality assertions, and every event names the Dagster run as its parent."""
    events, run = pipeline["dbt"], pipeline["result"].dagster_run
    assert events
    assert pipeline["marquez"].rejected == []
    # the same events; jobs travel side by side (emit_all), so only each job's order is kept
    accepted = [e for e in pipeline["marquez"].accepted if _is_dbt(e)]
    assert sorted(map(json.dumps, accepted)) == sorted(map(json.dumps, events))
    for job in {e["job"]["name"] for e in events}:
        assert ([e for e in accepted if e["job"]["name"] == job]
                == [e for e in events if e["job"]["name"] == job])
    for event in events:
        validate_event(event)
        parent = event["run"]["facets"]["parent"]
        assert parent["job"] == {"namespace": NAMESPACE, "name": run.job_name}
        assert parent["run"]["runId"] == run.run_id
    completed = {o["name"].rsplit(".", 1)[-1] for e in events if e["eventType"] == "COMPLETE"
                 for o in e["outputs"]}
    models = {key.path[-1] for key in next(a for a in asset_defs().assets
                                           if a.op.name == "transformer").keys}
    assert models <= completed
    assertions = [a for e in events for i in e["inputs"]
                  for a in i.get("inputFacets", {}).get("dataQualityAssertions", {})
                  .get("assertions", [])]
    assert len(assertions) > 100 and all(a["success"] for a in assertions)


@pytest.mark.slow
def test_every_event_names_a_dataset_with_its_one_description_and_one_type_per_field(pipeline):
    """Marquez overwrites a dataset's description with each event's, clearing it when the
    facet is missing, and tells fields apart by name *and* type. So across every event of the
    run, extraction and dbt alike, each dataset carries one and the same description, and each
    of its fields one type spelling."""
    descriptions: dict[tuple[str, str], set] = {}
    types: dict[tuple[str, str, str], set] = {}
    for event in pipeline["events"]:
        for dataset in [*event["inputs"], *event["outputs"]]:
            key = (dataset["namespace"], dataset["name"])
            text = dataset.get("facets", {}).get("documentation", {}).get("description")
            descriptions.setdefault(key, set()).add(text)
            for column in dataset.get("facets", {}).get("schema", {}).get("fields", []):
                types.setdefault((*key, column["name"]), set()).add(column.get("type"))
    assert len(descriptions) > 40
    unstable = {key: texts for key, texts in descriptions.items() if len(texts) != 1}
    assert unstable == {}
    assert [key for key, texts in descriptions.items() if None in texts] == []
    assert {key: found for key, found in types.items() if len(found) != 1} == {}
    # and a type at all: Marquez stores an untyped field anew at every event
    assert [key for key, found in types.items() if None in found] == []
    orders = warehouse_table(pipeline["warehouse"], "raw_bigcommerce", "orders")
    assert types[(orders.namespace, orders.name, "id")] == {"BIGINT"}


@pytest.mark.slow
def test_raw_tables_are_the_nodes_the_extraction_names(pipeline):
    """dbt's inputs are the raw tables under the very identity `lineage.naming` gives the
    extraction's outputs, so the two halves of the graph join."""
    graph = pipeline["graph"]
    orders = warehouse_table(pipeline["warehouse"], "raw_bigcommerce", "orders")
    assert (orders.namespace, orders.name) in graph.datasets
    staging = graph.find("stg_bigcommerce__orders")
    assert (orders.namespace, orders.name) in graph.upstream[staging]


@pytest.mark.slow
def test_mart_column_lineage_reaches_raw_zone_columns(pipeline):
    """Through the facts and staging models, down to the raw zone's contract columns (the
    staging models read the `record` JSON; the lineage names the field it holds)."""
    graph = pipeline["graph"]
    mart = graph.find(MART)
    raw, through = graph.origins((*mart, "line_total_krw"))
    names = {(name.split(".", 1)[1], column) for _, name, column in raw}
    # a KRW figure depends on the amount, both currencies (converted only when they differ)
    # and the store-to-transactional rate, never on the display rate
    assert names == {("raw_bigcommerce.order_products", "total_ex_tax"),
                     ("raw_bigcommerce.orders", "default_currency_code"),
                     ("raw_bigcommerce.orders", "store_default_currency_code"),
                     ("raw_bigcommerce.orders", "store_default_to_transactional_exchange_rate")}
    steps = {(name.rsplit(".", 1)[1], column) for _, name, column in through}
    assert {("fct_order_item", "line_total"), ("stg_bigcommerce__order_products", "total_ex_tax"),
            ("fct_order", "store_to_transactional_exchange_rate")} <= steps
    raw, _ = graph.origins((*mart, "order_status"))
    assert [(name.split(".", 1)[1], column) for _, name, column in raw] == [
        ("raw_bigcommerce.orders", "status")]


@pytest.mark.slow
def test_pii_classes_follow_column_lineage_to_the_marts(pipeline):
    """A column inherits the PII classes of every raw column it comes from. The mart of
    purchases holds no e-mail or phone; its PII-derived columns are `customer_city` (an element
    of the customers' `addresses`, through dim_customer) and `loyalty_tier` (a free-text
    metafield value). E-mail and the orders' billing address are checked where they flow."""
    graph, tags = pipeline["graph"], pipeline["graph"].tags
    mart = graph.find(MART)
    assert tags[(*mart, "customer_city")] == ["pii:address"]
    assert tags[(*mart, "loyalty_tier")] == ["pii:free_text"]
    assert (*mart, "line_total_krw") not in tags and (*mart, "order_id") not in tags
    raw, _ = graph.origins((*mart, "customer_city"))
    assert [(name.rsplit(".", 1)[1], column) for _, name, column in raw] == [
        ("customers", "addresses")]
    assert tags[raw[0]] == ["pii:address"]
    orders = graph.find("stg_bigcommerce__orders")
    assert tags[(*orders, "billing_city")] == ["pii:address"]  # from orders.billing_address
    customer = graph.find("dim_customer")
    raw, _ = graph.origins((*customer, "email"))
    assert [(name.rsplit(".", 1)[1], column) for _, name, column in raw] == [
        ("customers", "email")]
    assert tags[raw[0]] == tags[(*customer, "email")] == ["pii:email"]
    output = next(o for e in pipeline["dbt"] if e["eventType"] == "COMPLETE"
                  for o in e["outputs"] if o["name"].endswith(MART))
    sources = {t["source"] for t in output["facets"]["tags"]["tags"]}
    assert sources == {"COLUMN_LINEAGE"}
    assert output["facets"]["ownership"]["owners"] == [{"name": "team:commerce"}]


@pytest.mark.slow
def test_the_cli_prints_a_marts_upstream_and_a_columns_raw_origins(pipeline, capsys):
    """`python3 run.py lineage` without Marquez: upstream down to the raw orders table; with
    --column, the raw columns and their PII tags."""
    assert cli_main(["lineage", MART, "--file", str(pipeline["file"])]) == 0
    out = capsys.readouterr().out
    upstream = out.split("upstream", 1)[1].split("downstream", 1)[0]
    assert "warehouse.raw_bigcommerce.orders\n" in upstream
    assert "warehouse.analytics.fct_order\n" in upstream
    assert cli_main(["lineage", MART, "--column", "customer_city",
                     "--file", str(pipeline["file"])]) == 0
    out = capsys.readouterr().out
    assert "warehouse.raw_bigcommerce.customers.addresses  [pii:address]" in out


@pytest.fixture(scope="module")
def artifacts(pipeline):
    """The dbt invocation's own target folder (dagster-dbt gives each invocation one)."""
    invocation = next(e["run"]["facets"]["dbt_run"]["invocation_id"] for e in pipeline["dbt"])
    return next(p.parent for p in (TRANSFORMER_DIR / "target").glob("*/run_results.json")
                if json.loads(p.read_text())["metadata"]["invocation_id"] == invocation)


@pytest.mark.slow
def test_a_failed_model_gets_a_fail_event(artifacts, tmp_path):
    """The real run's artifacts with the mart marked as errored: the processor reports it as
    FAIL, still under the Dagster run, naming the mart as its START did (Marquez takes a closing
    event's outputs as the job's current version: without them the mart loses its producer)."""
    target = shutil.copytree(artifacts, tmp_path / "target")
    results = json.loads((target / "run_results.json").read_text())
    for result in results["results"]:
        if result["unique_id"].endswith(f".{MART}"):
            result["status"], result["message"] = "error", "boom"
    (target / "run_results.json").write_text(json.dumps(results))
    run_id = str(uuid.uuid4())
    events = dbt_events(TRANSFORMER_DIR, TRANSFORMER_DIR, "local", "etl_pipeline", run_id,
                        target)
    mart = [e for e in events if e.job.name.endswith(f"{MART}.build.run")]
    assert [e.eventType.value for e in mart] == ["START", "FAIL"]
    assert [(o.namespace, o.name) for o in mart[1].outputs] == [
        (o.namespace, o.name) for o in mart[0].outputs]
    assert mart[1].outputs[0].name.endswith(f".{MART}")
    assert mart[1].run.facets["parent"].run.runId == run_id


class _Refusing:
    """A client whose every delivery fails, as when Marquez is down."""

    def __init__(self) -> None:
        self.attempts = 0
        self._lock = threading.Lock()

    def emit(self, event) -> None:
        with self._lock:  # called from emit_all's lanes
            self.attempts += 1
        raise ConnectionError("refused")


@pytest.mark.slow
def test_a_lineage_outage_costs_a_few_attempts_not_the_step(artifacts):
    """Every event undeliverable: a few attempts in each lane, then the rest counted as failed
    without waiting on each; nothing raised."""
    client = _Refusing()
    emitter = LineageEmitter(client)
    total = len(dbt_events(TRANSFORMER_DIR, TRANSFORMER_DIR, "local", "j", str(uuid.uuid4()),
                           artifacts))
    assert emit_dbt_run(emitter, TRANSFORMER_DIR, TRANSFORMER_DIR, "local", "j",
                        str(uuid.uuid4()), target_path=artifacts) == 0
    assert client.attempts == LANES * GIVE_UP_AFTER
    assert emitter.failed == total > LANES * GIVE_UP_AFTER


def test_unreadable_artifacts_cost_no_exception(tmp_path):
    """No artifacts: nothing emitted, one failure counted; lineage disabled: nothing read."""
    client = _Refusing()
    emitter = LineageEmitter(client)
    assert emit_dbt_run(emitter, TRANSFORMER_DIR, TRANSFORMER_DIR, "local", "job",
                        str(uuid.uuid4()), target_path=tmp_path / "missing") == 0
    assert (emitter.sent, emitter.failed, client.attempts) == (0, 1, 0)
    disabled = LineageEmitter(None)
    assert emit_dbt_run(disabled, TRANSFORMER_DIR, TRANSFORMER_DIR, "local", "job",
                        str(uuid.uuid4()), target_path=tmp_path / "missing") == 0
    assert disabled.failed == 0


def test_the_cli_explains_a_missing_file_and_an_unknown_name(tmp_path, capsys):
    """Without a pipeline: a missing file, a cut-short line, a misspelt dataset or column."""
    missing = tmp_path / "none.jsonl"
    assert cli_main(["lineage", MART, "--file", str(missing)]) == 1
    assert f"no lineage events at {missing}" in capsys.readouterr().err
    event = {"eventType": "COMPLETE", "job": {"namespace": "n", "name": "j"},
             "inputs": [{"namespace": "duckdb:///w", "name": "w.raw.orders"}],
             "outputs": [{"namespace": "duckdb:///w", "name": f"w.analytics.{MART}"}]}
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(event) + "\n{cut sho\n")
    assert cli_main(["lineage", "mart_complete_purchase", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert "skipped 1 unreadable line" in err and f"did you mean {MART}" in err
    assert cli_main(["lineage", MART, "--column", "nope", "--file", str(path)]) == 1
    assert "has no column 'nope'" in capsys.readouterr().err
