"""The whole asset graph through Dagster: extraction, `dbt build` on DuckDB, notifications.

The marts are reconciled with figures the test computes itself from the sandbox's ground truth
and the PostgreSQL source, not from the warehouse.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import duckdb
import psycopg
import pytest

from assets import EXTRACTION_SPECS
from assets import defs as asset_defs
from checks import CHECK_NAMES
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import pipeline_resources, sandbox_config

pytestmark = pytest.mark.slow
COMPLETED = {"Completed", "Shipped"}


def all_assets() -> list:
    return list(asset_defs().assets)


def dbt_assets() -> dg.AssetsDefinition:
    return next(a for a in all_assets() if a.op.name == "transformer")


def materialize(resources: dict, selection=None, run_config=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(all_assets(), resources=resources, selection=selection,
                          run_config=run_config, raise_on_error=False)


def query(warehouse: str, sql: str) -> list[tuple]:
    connection = duckdb.connect(warehouse, read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def krw(order: dict) -> Decimal:
    """The order's total in won: amounts are in its transactional currency, converted from the
    store's by `store_default_to_transactional_exchange_rate` (BigCommerce's reference)."""
    rate = Decimal(order["store_default_to_transactional_exchange_rate"])
    total = Decimal(order["total_inc_tax"]) / rate
    return total.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def test_every_model_builds_every_test_passes_and_the_marts_reconcile(tmp_path, wise_postgres):
    with running_sandbox(sandbox_config()) as api:
        resources = pipeline_resources(api, wise_postgres, tmp_path)
        result = materialize(resources)
        data = api.dataset
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    models = {key.to_user_string() for key in dbt_assets().keys}
    assert models <= materialized and "op_product_notification_event" in materialized
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) > 150
    assert [e.check_name for e in evaluations if not e.passed] == []
    contract_checks = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations
                       if e.check_name in CHECK_NAMES}
    assert len(contract_checks) == 2 * len(EXTRACTION_SPECS)  # both audits on every source

    warehouse = resources["raw_zone"].warehouse
    completed = [o for o in data.orders if o["status"] in COMPLETED and not o["is_deleted"]]
    items = sum(len(data.order_products[o["id"]]) for o in completed)
    mart_items = query(warehouse, "SELECT count(*) FROM analytics.mart_complete_purchase_order")
    assert mart_items == [(items,)]

    by_customer: dict[int, Decimal] = Counter()
    for order in completed:
        by_customer[order["customer_id"]] += krw(order)
    mart = dict(query(warehouse, "SELECT customer_id, completed_revenue_krw "
                                 "FROM analytics.mart_customer_value"))
    assert len(mart) == len(data.customers)
    assert {c: v for c, v in mart.items() if v} == {c: v for c, v in by_customer.items() if c}

    with psycopg.connect(wise_postgres.admin_url) as connection:
        balances = dict(connection.execute(
            "SELECT DISTINCT ON (customer_id) customer_id, balance_after FROM point_transaction "
            "ORDER BY customer_id, created_at DESC, id DESC").fetchall())
    points = dict(query(warehouse, "SELECT customer_id, points_balance "
                                   "FROM analytics.mart_customer_value"))
    assert {c: b for c, b in points.items() if c in balances} == balances

    # Notifications: past buyers of on-sale products with stock, once per customer and product.
    in_stock = {item["identity"]["product_id"] for item in data.inventory_items
                if any(loc["available_to_sell"] > 0 for loc in item["locations"])}
    eligible = {p["id"] for p in data.products if (p["sale_price"] or 0) > 0} & in_stock
    customers = {c["id"] for c in data.customers}
    expected = {(o["customer_id"], item["product_id"]) for o in data.orders
                for item in data.order_products[o["id"]]
                if o["customer_id"] in customers and item["product_id"] in eligible}
    events = set(query(warehouse, "SELECT customer_id, product_id "
                                  "FROM ops.product_notification_event"))
    assert events == expected and events
    again = materialize(resources, selection=dg.AssetSelection.assets(
        "op_product_notification_event"))
    metadata = again.asset_materializations_for_node("op_product_notification_event")[0].metadata
    assert metadata["inserted"].value == 0  # deduplicated per day
    assert metadata["dagster/row_count"].value == len(expected)


def test_a_quarantined_line_holds_its_order_so_the_cross_table_test_passes(
        tmp_path, wise_postgres):
    """A line item with negative totals: its contract quarantines it (under the limit), and
    its order is held back with the order's other lines (invariant 11). Before, the order was
    published without that line and dbt's error test that an order's subtotal matches its
    items failed, blocking everything downstream; now dbt never sees half an order, the test
    passes and the notifications run."""
    # With the plan seed (11) this fraction picks exactly one of the 229 lines (0.4%).
    fault = {"endpoint": "order_products", "kind": "negative_total", "fraction": 0.0132}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = pipeline_resources(api, wise_postgres, tmp_path)
        result = materialize(resources)
    assert result.success
    lines = next(e for e in result.get_asset_check_evaluations()
                 if e.asset_key.to_user_string() == "src_order_product"
                 and e.check_name == "schema_contract")
    assert lines.severity == dg.AssetCheckSeverity.WARN and lines.metadata["rows_failing"].value
    assert "bigcommerce.orders held" in lines.description
    subtotal = [e for e in result.get_asset_check_evaluations()
                if "order_items_subtotal_matches_items" in e.check_name]
    assert subtotal and all(e.passed for e in subtotal)
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"src_order_product", "fct_order", "fct_order_item",
            "op_product_notification_event"} <= built
    connection = duckdb.connect(resources["raw_zone"].warehouse, read_only=True)
    try:
        held = connection.execute(
            "SELECT DISTINCT TRY_CAST(json_extract_string(record, '$.order_id') AS BIGINT) "
            "FROM quarantine.bigcommerce__order_products").fetchall()
        facts = {row[0] for row in connection.execute(
            "SELECT order_id FROM analytics.fct_order").fetchall()}
    finally:
        connection.close()
    assert held and not {row[0] for row in held} & facts
