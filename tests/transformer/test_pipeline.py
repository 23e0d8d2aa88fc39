"""The whole asset graph through Dagster: extraction, `dbt build` on DuckDB, notifications.

The marts are reconciled with figures the test computes itself from the sandbox's ground truth
and the PostgreSQL source, not from the warehouse.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

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


def test_a_failing_error_test_blocks_everything_downstream(tmp_path, wise_postgres):
    """A line item with negative totals: its contract quarantines it (under the limit), so its
    order is published without it. Only dbt can see that across tables: the error test that an
    order's subtotal matches its items fails as a blocking check, the step fails naming the test
    and its compiled SQL, and nothing downstream of dbt (the notifications) runs."""
    # With the plan seed (11) this fraction picks exactly one of the 229 lines (0.4%).
    fault = {"endpoint": "order_products", "kind": "negative_total", "fraction": 0.0132}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = pipeline_resources(api, wise_postgres, tmp_path)
        result = materialize(resources)
    assert not result.success
    lines = next(e for e in result.get_asset_check_evaluations()
                 if e.asset_key.to_user_string() == "src_order_product"
                 and e.check_name == "schema_contract")
    assert lines.severity == dg.AssetCheckSeverity.WARN and lines.metadata["rows_failing"].value
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    subtotal = [e for e in failed if "order_items_subtotal_matches_items" in e.check_name]
    assert subtotal and subtotal[0].severity == dg.AssetCheckSeverity.ERROR
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"src_order_product", "fct_order", "fct_order_item"} <= built
    assert "op_product_notification_event" not in built
    error = result.failure_data_for_node("transformer").error
    message = (error.cause or error).message
    assert "order_items_subtotal_matches_items" in message and "compiled SQL:" in message
    compiled = Path(message.split("[compiled SQL: ", 1)[1].split("]", 1)[0])
    assert compiled.exists() and "items_subtotal" in compiled.read_text()
