"""Revenue in KRW reconciles, to the won, with what the sandbox's generator sold.

BigCommerce's reference says every amount of an order is in its transactional currency
(`default_currency_code`), and `store_default_to_transactional_exchange_rate` is units of it
per unit of the store's currency (`store_default_currency_code`, KRW). So an amount in won is
the amount itself for a KRW order and amount / rate, rounded to whole won, for any other.

The expected figures are computed here in Python, with `Decimal`, from the generator's own
records (`Dataset.generate` with the sandbox's config), for USD and KRW orders apart; the
pipeline then extracts the same data from the sandbox API, audits, publishes and runs dbt, and
`fct_order.order_total_krw`, `mart_customer_value.completed_revenue_krw` and
`mart_complete_purchase_order.line_total_krw` must equal them exactly.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import pytest

from assets import defs as asset_defs
from sandbox.bigcommerce.data import Dataset
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import pipeline_resources, sandbox_config
from tests.transformer.test_pipeline import query

pytestmark = pytest.mark.slow
# Completed purchases, as the marts define them: these statuses, and the order not deleted.
COMPLETED = {"Completed", "Shipped"}
CURRENCY_FIELDS = ("default_currency_code", "currency_code", "currency_exchange_rate",
                   "store_default_currency_code", "store_default_to_transactional_exchange_rate")


def won(amount: str, order: dict) -> Decimal:
    """An amount of `order`, in won (see the module docstring)."""
    if order["default_currency_code"] == order["store_default_currency_code"]:
        return Decimal(amount)
    rate = Decimal(order["store_default_to_transactional_exchange_rate"])
    return (Decimal(amount) / rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def completed(order: dict) -> bool:
    return order["status"] in COMPLETED and not order["is_deleted"]


def currency_problems(orders: list[dict]) -> list[str]:
    """What keeps the generator's orders from meaning what the reference says, one line each
    (at most five); empty when they do."""
    problems = []
    for order in orders:
        missing = [name for name in CURRENCY_FIELDS if name not in order]
        if missing:
            problems.append(f"order {order['id']} lacks {missing}")
            continue
        paid, store = order["default_currency_code"], order["store_default_currency_code"]
        rate = Decimal(order["store_default_to_transactional_exchange_rate"])
        if store != "KRW":
            problems.append(f"order {order['id']}: store currency {store!r}, not KRW")
        elif paid == store and rate != 1:
            problems.append(f"order {order['id']}: paid in KRW but converts at {rate}")
        elif paid == "USD" and not Decimal(1) / 2000 < rate < Decimal(1) / 1000:
            # dollars per won: about 1/1350; the inverse (1350) or 1 means the wrong rate
            problems.append(f"order {order['id']}: {rate} dollars per won is not a rate")
        if Decimal(order["currency_exchange_rate"]) != 1:
            problems.append(f"order {order['id']}: display rate {order['currency_exchange_rate']}"
                            ", which v2 always sends as 1")
    currencies = {(o.get("default_currency_code"), completed(o)) for o in orders}
    for currency in ("KRW", "USD"):
        if (currency, True) not in currencies:
            problems.append(f"no completed order paid in {currency} to reconcile")
    return problems[:5]


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory, wise_postgres) -> dict:
    """The generator's records, and the warehouse the pipeline built from the same data."""
    config = sandbox_config()
    data = Dataset.generate(config.seed, config.size, config.anchor)
    problems = currency_problems(data.orders)
    if problems:
        pytest.fail("the sandbox's orders do not carry BigCommerce's currency semantics (the "
                    "generator must serve them first):\n  " + "\n  ".join(problems))
    folder = tmp_path_factory.mktemp("currency")
    with running_sandbox(config) as api:
        resources = pipeline_resources(api, wise_postgres, folder)
        # everything, not the marts' upstream alone: dbt's tests between models (a line's
        # variant in dim_sku) run whenever one side is built
        result = dg.materialize(list(asset_defs().assets), resources=resources,
                                raise_on_error=False)
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert result.success and failed == [], f"the pipeline failed: checks {failed}"
    return {"data": data, "warehouse": resources["raw_zone"].warehouse}


def test_every_order_total_in_krw(reconciled):
    data, warehouse = reconciled["data"], reconciled["warehouse"]
    expected = {order["id"]: won(order["total_inc_tax"], order) for order in data.orders}
    built = dict(query(warehouse, "SELECT order_id, order_total_krw FROM analytics.fct_order"))
    assert built == expected
    by_currency: Counter[str] = Counter()
    for order in filter(completed, data.orders):
        by_currency[order["default_currency_code"]] += expected[order["id"]]
    sums = dict(query(warehouse, "SELECT currency_code, sum(order_total_krw) FROM "
                                 "analytics.fct_order WHERE is_completed AND NOT is_deleted "
                                 "GROUP BY currency_code"))
    assert sums == dict(by_currency) and set(sums) == {"KRW", "USD"}


def test_a_usd_order_counts_at_about_1350_won_per_dollar(reconciled):
    """The direction of the rate, checked without it: a dollar is worth about 1,350 won in
    the sandbox, never about one (dividing by the display rate) or 1/1350 (multiplying)."""
    data, warehouse = reconciled["data"], reconciled["warehouse"]
    built = dict(query(warehouse, "SELECT order_id, order_total_krw FROM analytics.fct_order "
                                  "WHERE currency_code = 'USD'"))
    usd = {o["id"]: Decimal(o["total_inc_tax"]) for o in data.orders
           if o["default_currency_code"] == "USD"}
    assert built and set(built) == set(usd)
    assert all(abs(built[i] - usd[i] * 1350) <= usd[i] * Decimal("0.001") + 1 for i in usd)


def test_completed_revenue_per_customer_in_krw(reconciled):
    """Guests (customer 0) belong to nobody; every customer's revenue is their completed
    orders' KRW totals, whatever currency each was paid in."""
    data, warehouse = reconciled["data"], reconciled["warehouse"]
    expected: Counter[int] = Counter()
    for order in filter(completed, data.orders):
        if order["customer_id"]:
            expected[int(order["customer_id"])] += won(order["total_inc_tax"], order)
    built = dict(query(warehouse, "SELECT customer_id, completed_revenue_krw "
                                  "FROM analytics.mart_customer_value"))
    assert len(built) == len(data.customers)
    assert {c: v for c, v in built.items() if v} == {c: v for c, v in expected.items() if v}
    assert sum(built.values()) == sum(expected.values())


def test_purchase_line_totals_in_krw(reconciled):
    """Each completed purchase line's total before tax, in won, with its order's rate."""
    data, warehouse = reconciled["data"], reconciled["warehouse"]
    expected, by_currency = {}, Counter()
    for order in filter(completed, data.orders):
        for line in data.order_products[order["id"]]:
            expected[line["id"]] = won(line["total_ex_tax"], order)
            by_currency[order["default_currency_code"]] += expected[line["id"]]
    built = dict(query(warehouse, "SELECT order_item_id, line_total_krw "
                                  "FROM analytics.mart_complete_purchase_order"))
    assert built == expected
    sums = dict(query(warehouse, "SELECT currency_code, sum(line_total_krw) FROM "
                                 "analytics.mart_complete_purchase_order GROUP BY currency_code"))
    assert sums == dict(by_currency) and set(sums) == {"KRW", "USD"}
