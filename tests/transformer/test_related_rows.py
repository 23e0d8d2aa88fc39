"""Related rows publish together (invariant 11), on the whole pipeline through Dagster.

Order lines without `sku` (a row rule) under the limit: each such line is quarantined, its
order is held back with the order's other lines, the main graph still succeeds, dbt's
cross-table test `assert_order_items_subtotal_matches_items` passes, and the marts leave out
exactly the held orders. A later clean batch releases them. Orders whose lines answer 404
(deleted between the two reads) are held the same way.
"""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest

from assets import EXTRACTION_ASSETS
from assets import defs as asset_defs
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import pipeline_resources, sandbox_config, zone_ref
from tests.assets.test_contract_audits import evaluations, quarantine

pytestmark = pytest.mark.slow
SIZE = DatasetSize(customers=150, orders=600, products=30)
LINES_WITHOUT_SKU = {"endpoint": "order_products", "kind": "drop_column", "column": "sku",
                     "fraction": 0.003}


def _ids(warehouse: str, sql: str) -> set[int]:
    connection = duckdb.connect(warehouse, read_only=True)
    try:
        return {row[0] for row in connection.execute(sql).fetchall()}
    finally:
        connection.close()


def _dbt_checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_a_quarantined_line_holds_its_order_and_the_marts_stay_whole(tmp_path, wise_postgres):
    assets = list(asset_defs().assets)
    with dg.instance_for_test() as instance, \
            running_sandbox(sandbox_config([LINES_WITHOUT_SKU], size=SIZE)) as api:
        resources = pipeline_resources(api, wise_postgres, tmp_path)
        result = dg.materialize(assets, resources=resources, instance=instance,
                                raise_on_error=False)
        all_orders = {order["id"] for order in api.dataset.orders}
    assert result.success
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"mart_complete_purchase_order", "mart_customer_value"} <= built
    assert _dbt_checks(result)["assert_order_items_subtotal_matches_items"]

    lines = quarantine(resources, "src_order_product")
    broke = [row for row in lines if row[1] == "not_nullable" and row[2] == "sku"]
    assert broke, "the fault plan should have dropped at least one sku"
    held_orders = {int(json.loads(row[4])["order_id"]) for row in broke}
    siblings = [row for row in lines if row[1] == "held_with_sibling"]
    assert {int(json.loads(r[4])["order_id"]) for r in siblings} <= held_orders
    assert {r[1] for r in lines} <= {"not_nullable", "held_with_sibling"}

    warehouse = resources["raw_zone"].warehouse
    orders = zone_ref("src_order")
    assert _ids(warehouse, f"SELECT _pk FROM {orders.schema}.{orders.table}") == \
        all_orders - held_orders
    assert not held_orders & _ids(warehouse, "SELECT order_id FROM analytics."
                                  "mart_complete_purchase_order")
    assert not held_orders & _ids(warehouse, "SELECT order_id FROM analytics.fct_order_item")
    schema = evaluations(result, "src_order_product")["schema_contract"]
    assert schema.severity == dg.AssetCheckSeverity.WARN
    assert f"{len(held_orders)} bigcommerce.orders held" in schema.description
    assert schema.metadata["rows_failing"].value == len(lines)

    # The lines read again, clean: the family is whole, so the orders are released.
    lines_only = [a for a in EXTRACTION_ASSETS if a.key.to_user_string() == "src_order_product"]
    with running_sandbox(sandbox_config(size=SIZE)) as api:
        resources = pipeline_resources(api, wise_postgres, tmp_path)
        again = dg.materialize(lines_only, resources=resources, run_config={"ops": {
            "src_order_product": {"config": {"full_refresh": True}}}})
    assert again.success
    assert _ids(warehouse, f"SELECT _pk FROM {orders.schema}.{orders.table}") == all_orders


def test_orders_whose_lines_are_gone_are_held_until_their_lines_can_be_read(
        tmp_path, wise_postgres):
    deleted = {"endpoint": "order_products", "kind": "deleted_orders", "fraction": 0.006}
    specs = [a for a in EXTRACTION_ASSETS
             if a.key.to_user_string() in {"src_order", "src_order_product"}]
    with running_sandbox(sandbox_config([deleted], size=SIZE)) as api:
        resources = pipeline_resources(api, wise_postgres, tmp_path)
        result = dg.materialize(specs, resources=resources)
        gone = {order["id"] for order in api.dataset.orders
                if order["id"] not in api.dataset.order_products}
    assert result.success and gone
    named = result.asset_materializations_for_node("src_order_product")[0].metadata
    assert str(min(gone)) in named["orders_without_lines"].value
    orders = zone_ref("src_order")
    zone = resources["raw_zone"].zone()
    with zone.reader([orders]) as db:
        visible = {r[0] for r in db.execute(f"SELECT _pk FROM {orders.schema}.{orders.table}")
                   .fetchall()}
    assert not visible & gone and visible


def test_holding_more_parents_than_their_limit_allows_blocks_the_child_batch(
        tmp_path, wise_postgres):
    """5% of the orders lose their lines: holding them all would hide more orders than the
    orders contract's 1% allows, so the lines' batch is blocked instead, saying so."""
    deleted = {"endpoint": "order_products", "kind": "deleted_orders", "fraction": 0.05}
    specs = [a for a in EXTRACTION_ASSETS
             if a.key.to_user_string() in {"src_order", "src_order_product"}]
    with running_sandbox(sandbox_config([deleted], size=SIZE)) as api:
        resources = pipeline_resources(api, wise_postgres, tmp_path)
        result = dg.materialize(specs, resources=resources, raise_on_error=False)
    assert not result.success
    schema = evaluations(result, "src_order_product")["schema_contract"]
    assert schema.severity == dg.AssetCheckSeverity.ERROR
    assert "bigcommerce.orders" in schema.description and "limit of 1%" in schema.description
    assert not resources["raw_zone"].zone().paths.has_batches(zone_ref("src_order_product"))
