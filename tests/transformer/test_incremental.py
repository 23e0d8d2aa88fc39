"""Incremental facts: two incremental runs over changed and late-arriving data equal a full
refresh of the same raw zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import dagster as dg
import pytest

from resources.raw_zone import RawZone
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import pipeline_resources, sandbox_config, zone_ref
from tests.transformer.test_pipeline import dbt_assets, materialize, query

pytestmark = pytest.mark.slow
INCREMENTAL = ("fct_order", "fct_order_item", "fct_point_transaction")


def republish(zone: RawZone, asset: str, changes: list[tuple[int, datetime, dict]]) -> None:
    batch = zone.stage(zone_ref(asset), run_id="incremental-test")
    for pk, modified_at, record in changes:
        batch.add(pk, modified_at, json.dumps(record, ensure_ascii=False))
    zone.publish(batch)


def current_records(zone: RawZone, asset: str, where: str = "true") -> list[dict]:
    ref = zone_ref(asset)
    with zone.reader([ref]) as db:
        rows = db.execute(f"SELECT record FROM {ref.schema}.{ref.table} WHERE {where} "
                          "ORDER BY _pk").fetchall()
    return [json.loads(row[0]) for row in rows]


def snapshot(warehouse: str) -> dict[str, list[tuple]]:
    return {table: query(warehouse, f"SELECT * FROM analytics.{table} ORDER BY ALL")
            for table in INCREMENTAL}


def change_orders(zone: RawZone, now: datetime, late_id: int) -> None:
    """Refund three orders now, and let an order from last month arrive only today."""
    orders = current_records(zone, "src_order")
    changes = []
    for order in orders[:3]:
        order.update(status="Refunded", status_id=4, date_modified=format_datetime(now))
        changes.append((order["id"], now, order))
    late = {**orders[3], "id": late_id, "date_modified": format_datetime(now - timedelta(days=30))}
    changes.append((late_id, now - timedelta(days=30), late))
    republish(zone, "src_order", changes)
    items = current_records(zone, "src_order_product", f"_pk IN (SELECT _pk FROM "
                            f"raw_bigcommerce.order_products WHERE record->>'$.order_id' = "
                            f"'{orders[3]['id']}')")
    republish(zone, "src_order_product", [
        (90_000 + n, now - timedelta(days=30), {**item, "id": 90_000 + n, "order_id": late_id})
        for n, item in enumerate(items)
    ])


def change_points(zone: RawZone, now: datetime) -> None:
    """A correction to one ledger row's description, made today."""
    (row, *_) = current_records(zone, "src_point_transaction")
    row.update(description="정정: 관리자 조정", updated_at=now.isoformat())
    republish(zone, "src_point_transaction", [(row["id"], now, row)])


def test_two_incremental_runs_equal_a_full_refresh(tmp_path, wise_postgres):
    with running_sandbox(sandbox_config()) as api:
        resources = pipeline_resources(api, wise_postgres, tmp_path)
        assert materialize(resources).success
    zone = resources["raw_zone"].zone()
    warehouse = resources["raw_zone"].warehouse
    models = dg.AssetSelection.assets(*dbt_assets().keys)
    now = datetime.now(UTC).replace(microsecond=0)

    change_orders(zone, now, late_id=77_777)
    assert materialize(resources, selection=models).success
    change_points(zone, now + timedelta(minutes=1))
    assert materialize(resources, selection=models).success
    incremental = snapshot(warehouse)

    full = {"ops": {"transformer": {"config": {"full_refresh": True}}}}
    assert materialize(resources, selection=models, run_config=full).success
    assert snapshot(warehouse) == incremental
    statuses = dict(query(warehouse, "SELECT order_id, status FROM analytics.fct_order"))
    assert statuses[77_777] and list(statuses.values()).count("Refunded") >= 3
    late_items = query(warehouse, "SELECT count(*) FROM analytics.fct_order_item "
                                  "WHERE order_id = 77777")
    assert late_items[0][0] > 0
