"""A batch over its contract's limit is never visible: invariant 1 on the whole pipeline.

A clean run builds everything; a second run re-reads the orders while the sandbox sends many
negative totals. The contract blocks the batch: the published orders are the same files, byte
for byte, every table dbt built holds the same rows, dbt did not run, the bad rows sit in
quarantine with their rule, and the failure sensor sends one alert that names the owner.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg
import duckdb
import pytest

from assets import defs as asset_defs
from automation.sensors import run_failure_alert
from definitions import defs as code_location
from resources.alerts import AlertsResource
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import pipeline_resources, sandbox_config, zone_ref

pytestmark = pytest.mark.slow
OWNER = "team:commerce <commerce-data@commerce.example>"


def published_files(resources: dict) -> dict[str, str]:
    """Every published orders batch, by name, with the SHA-256 of its bytes."""
    zone = resources["raw_zone"].zone()
    folder = zone.paths.glob(zone_ref("src_order")).parent
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.glob("*.parquet"))}


def built_tables(warehouse: str) -> dict[str, list[tuple]]:
    """Every row of every table dbt (and the notifications) built, in a stable order."""
    connection = duckdb.connect(warehouse, read_only=True)
    try:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('analytics', 'ops') AND table_type = 'BASE TABLE'"
        ).fetchall()
        return {f"{schema}.{name}": connection.execute(
            f"SELECT * FROM {schema}.{name} ORDER BY ALL").fetchall() for schema, name in tables}
    finally:
        connection.close()


def test_many_negative_totals_block_the_batch_and_leave_everything_as_it_was(
    tmp_path, wise_postgres
):
    assets = list(asset_defs().assets)
    with dg.instance_for_test() as instance:
        with running_sandbox(sandbox_config()) as api:
            resources = pipeline_resources(api, wise_postgres, tmp_path)
            assert dg.materialize(assets, resources=resources, instance=instance).success
        warehouse = resources["raw_zone"].warehouse
        files, tables = published_files(resources), built_tables(warehouse)
        assert files and len(tables) >= 10

        fault = {"endpoint": "orders", "kind": "negative_total", "fraction": 0.3}
        with running_sandbox(sandbox_config([fault])) as api:
            resources = pipeline_resources(api, wise_postgres, tmp_path)
            orders = len(api.dataset.orders)
            result = dg.materialize(
                assets, resources=resources, instance=instance, raise_on_error=False,
                selection=dg.AssetSelection.assets("src_order").downstream(),
                run_config={"ops": {"src_order": {"config": {"full_refresh": True}}}},
            )
        assert not result.success
        assert result.get_asset_materialization_events() == []  # dbt did not run
        assert published_files(resources) == files
        assert built_tables(warehouse) == tables

        checks = {e.check_name: e for e in result.get_asset_check_evaluations()
                  if e.asset_key == dg.AssetKey("src_order")}
        schema = checks["schema_contract"]
        assert schema.severity == dg.AssetCheckSeverity.ERROR and not schema.passed
        assert schema.metadata["outcome"].value == "blocked"
        assert 0.1 < schema.metadata["failure_fraction"].value < 0.6
        zone = resources["raw_zone"].zone()
        with zone.reader([zone_ref("src_order")]) as db:
            rules = db.execute(
                "SELECT DISTINCT _stage, _rule FROM quarantine.bigcommerce__orders").fetchall()
            quarantined = db.execute(
                "SELECT count(*) FROM quarantine.bigcommerce__orders WHERE "
                "CAST(record->>'$.total_inc_tax' AS DOUBLE) < 0").fetchone()[0]
        assert ("schema_contract", "greater_than_or_equal_to(0)") in rules
        assert 0 < quarantined < orders

        outbox = tmp_path / "alerts" / "outbox.jsonl"
        alerts = AlertsResource(outbox=str(outbox), webserver_url="http://dagster.example")
        context = dg.build_run_status_sensor_context(
            sensor_name=run_failure_alert.name, dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
            dagster_event=result.get_run_failure_event(), resources={"alerts": alerts},
            repository_def=code_location().get_repository_def(),
        )
        run_failure_alert(context.for_run_failure())
        run_failure_alert(context.for_run_failure())  # a re-evaluation sends nothing new
    (alert,) = [json.loads(line) for line in outbox.read_text().splitlines()]
    assert alert["kind"] == "check_blocked" and alert["asset"] == "src_order"
    assert alert["owner"] == OWNER and f"Owner: {OWNER}" in alert["text"]
    assert result.run_id in alert["run_url"]
