"""The sandbox's data: deterministic, in the wire formats, internally consistent, and with
currency as BigCommerce's reference defines it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from sandbox.bigcommerce import Dataset, DatasetSize, running_sandbox
from sandbox.bigcommerce.formats import record_epoch
from sandbox.bigcommerce.generator import KRW_PER_USD
from tests.sandbox.sandbox_http import ANCHOR, config, get_json

SIZE = DatasetSize.scaled(150)
MONEY = re.compile(r"^-?\d+\.\d{4}$")
RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} "
                     r"\+0000$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(config(SIZE)) as handle:
        yield handle


# ---- the data ---------------------------------------------------------------------------------


def test_same_seed_same_data_and_other_seed_other_data():
    """Generation is a pure function of (seed, size, anchor)."""
    size = DatasetSize.scaled(40)
    one, two = (Dataset.generate(3, size, ANCHOR) for _ in range(2))
    assert (one.customers, one.orders, one.order_products, one.products) == (
        two.customers, two.orders, two.order_products, two.products)
    assert Dataset.generate(4, size, ANCHOR).customers != one.customers


def test_dates_and_money_are_in_the_wire_formats(sandbox):
    """v2 dates are RFC-2822, v3 dates ISO-8601 UTC, v2 money 4-decimal strings."""
    order = get_json(sandbox, "/v2/orders?limit=1")[0]
    assert RFC2822.match(order["date_modified"]) and RFC2822.match(order["date_created"])
    customer = get_json(sandbox, "/v3/customers?limit=1")["data"][0]
    assert ISO.match(customer["date_modified"]) and ISO.match(customer["date_created"])
    product = get_json(sandbox, "/v3/catalog/products?limit=1")["data"][0]
    assert ISO.match(product["date_modified"])
    for order in sandbox.dataset.orders:
        for key in ("subtotal_ex_tax", "total_inc_tax", "shipping_cost_inc_tax",
                    "discount_amount", "refunded_amount"):
            assert MONEY.match(order[key]), (key, order[key])


def test_generated_data_is_consistent():
    """References resolve, totals follow the documented rule, dates are ordered and skewed."""
    data = Dataset.generate(11, DatasetSize.scaled(400), ANCHOR)
    customer_ids = {c["id"] for c in data.customers}
    variants = {v["id"]: v for v in data.variants}
    anchor = ANCHOR.timestamp()
    for order in data.orders:
        assert order["customer_id"] == 0 or order["customer_id"] in customer_ids
        assert record_epoch(order["date_created"]) <= record_epoch(order["date_modified"]) < anchor
        d = {k: Decimal(order[k]) for k in ("subtotal_ex_tax", "shipping_cost_inc_tax",
                                            "total_tax", "discount_amount", "total_inc_tax")}
        assert d["total_inc_tax"] == (d["subtotal_ex_tax"] + d["shipping_cost_inc_tax"]
                                      + d["total_tax"] - d["discount_amount"])
        lines = data.order_products[order["id"]]
        assert 1 <= len(lines) <= 4
        assert sum(Decimal(line["total_ex_tax"]) for line in lines) == d["subtotal_ex_tax"]
        assert all(variants[line["variant_id"]]["product_id"] == line["product_id"]
                   for line in lines)
    assert {o["currency_code"] for o in data.orders} == {"KRW", "USD"}
    for order in data.orders:  # the transactional currency is the one the amounts are in
        assert order["default_currency_code"] == order["currency_code"]
        assert order["store_default_currency_code"] == "KRW"
        assert order["customer_locale"] in ("ko-KR", "en-US")
        assert order["ip_address"] or order["ip_address_v6"]
        assert order["ip_address_v6"] == "" or order["ip_address_v6"].count(":") == 7
        lines = data.order_products[order["id"]]
        assert sum(Decimal(line["discounted_total_inc_tax"]) for line in lines) == (
            Decimal(order["subtotal_inc_tax"]) - Decimal(order["discount_amount"]))
        shares = [Decimal(d["amount"]) for line in lines for d in line["applied_discounts"]]
        assert sum(shares) == Decimal(order["discount_amount"]) and min(shares, default=0) >= 0
        assert all(Decimal(line["discounted_total_inc_tax"]) >= 0 for line in lines)
    v6 = sum(bool(o["ip_address_v6"]) for o in data.orders) / len(data.orders)
    assert 0.1 < v6 < 0.3
    assert any(o["customer_id"] == 0 for o in data.orders)
    recent = sum(record_epoch(c["date_modified"]) >= anchor - 86_400 for c in data.customers)
    assert 0.05 < recent / len(data.customers) < 0.16
    on_sale = sum(p["sale_price"] > 0 for p in data.products) / len(data.products)
    assert 0.05 < on_sale < 0.4
    assert len(data.inventory_items) == len(variants)
    assert all(m["resource_id"] in customer_ids for m in data.customer_metafields)
    assert 0.35 < len(data.customer_metafields) / len(data.customers) < 0.65


# ---- currency, as the reference defines it -------------------------------------------------


def test_order_currency_follows_the_reference(sandbox):
    """Amounts are in `default_currency_code`; KRW revenue is amount divided by
    `store_default_to_transactional_exchange_rate`, and lands on the catalog's won prices."""
    prices = {v["id"]: v["calculated_price"] for v in sandbox.dataset.variants}
    seen = set()
    for order in sandbox.dataset.orders:
        usd = order["billing_address"]["country_iso2"] == "US"
        seen.add(usd)
        expected = ({"currency_code": "USD", "default_currency_code": "USD", "currency_id": 2,
                     "default_currency_id": 2,
                     "store_default_to_transactional_exchange_rate": "0.0007407407"} if usd else
                    {"currency_code": "KRW", "default_currency_code": "KRW", "currency_id": 1,
                     "default_currency_id": 1,
                     "store_default_to_transactional_exchange_rate": "1.0000000000"})
        assert {k: order[k] for k in expected} == expected
        assert order["currency_exchange_rate"] == "1.0000000000"
        assert order["store_default_currency_code"] == "KRW"
        rate = Decimal(order["store_default_to_transactional_exchange_rate"])
        lines = sandbox.dataset.order_products[order["id"]]
        won = round(Decimal(order["subtotal_ex_tax"]) / rate)
        catalog = sum(Decimal(prices[line["variant_id"]]) * line["quantity"] for line in lines)
        units = sum(line["quantity"] for line in lines)
        # each USD unit price is rounded to the cent: at most half a cent (6.75 won) off
        assert abs(won - catalog) <= (Decimal(KRW_PER_USD) / 200 * units if usd else 0)
    assert seen == {True, False}
