"""Contract for `bigcommerce.orders` (`GET /v2/orders`), the commerce team's table.

Every field BigCommerce's reference declares for a default v2 order response (70; `fees` and
`consignments` come only on request and the extraction does not ask for them): the money and
currencies in `orders_money.py`, everything else (and why each personal field has its class)
in `orders_fields.py`. This module binds them into one model with its cross-field rules.

Strict: an order carries addresses and messages, so a new field may hold personal data nobody
has classified yet; an unknown column is never published until the contract says what it is.

v2 sends dates as RFC-2822 (`date_shipped` is "" until something ships) and money as 4-decimal
strings, which the audit frame reads exactly (through `Decimal`) before comparing numbers.
"""

import pandas as pd
import pandera.pandas as pa

from contracts.base import Contract, Expectation, Owner, Recent
from contracts.bigcommerce.orders_fields import STATUSES, OrderFacts
from contracts.bigcommerce.orders_money import OrderMoney

# The same rules as SQL over the typed batch, for the audit in the warehouse
# (`checks.warehouse.rules`): true for a good row, and a null counts as failing, as below.
STATUS_SQL = ("status = CASE status_id "
              + " ".join(f"WHEN {code} THEN '{name}'" for code, name in STATUSES) + " END")
SAME_RATE_SQL = ("NOT coalesce(default_currency_code = store_default_currency_code, false) "
                 "OR coalesce(store_default_to_transactional_exchange_rate = 1, false)")


class Orders(OrderMoney, OrderFacts):
    @pa.dataframe_check(name="status_name_matches_code", statistics={"sql": STATUS_SQL})
    def status_name_matches_code(cls, df: pd.DataFrame) -> pd.Series:
        """A status code must carry its own name; a mismatch means the order is reported
        under the wrong status. (A vectorized Pandera check: GX's pair-set expectation walks
        the rows one by one and costs more than every other rule together.)"""
        expected = df["status_id"].map(dict(STATUSES))
        return df["status"].eq(expected).fillna(False).astype(bool)

    @pa.dataframe_check(name="same_currency_rate_is_one", statistics={"sql": SAME_RATE_SQL})
    def same_currency_rate_is_one(cls, df: pd.DataFrame) -> pd.Series:
        """An order paid in the store's own currency converts at exactly 1: any other rate
        would turn its amounts into the wrong number of won."""
        same = df["default_currency_code"].eq(df["store_default_currency_code"])
        rate = df["store_default_to_transactional_exchange_rate"]
        return (~same | rate.eq(1)).fillna(False).astype(bool)

    class Config:
        description = ("BigCommerce orders (v2): status, payment, money in the transactional "
                       "currency with its rate to the store's, and the billing address.")
        coerce = True
        strict = True


CONTRACT = Contract(
    source="bigcommerce",
    table="orders",
    model=Orders,
    owner=Owner(team="commerce", email="commerce-data@commerce.example"),
    primary_key="id",
    modified_column="date_modified",
    # Orders are revenue: finance reconciles daily totals, and beyond 1% of a batch missing
    # the day no longer reconciles, so the batch is blocked rather than published short.
    max_quarantine_fraction=0.01,
    numbers_as="string",  # v2 sends amounts, rates and sizes as decimal strings
    # What the buyer pays is every charge before tax, less the discount (taken off the ex-tax
    # amount), plus all tax: shipping, handling and wrapping included, whether taxed or not.
    derived={
        "total_gap": "total_inc_tax - (subtotal_ex_tax + shipping_cost_ex_tax"
        " + handling_cost_ex_tax + wrapping_cost_ex_tax + total_tax - discount_amount)",
        "shipping_tax": "shipping_cost_inc_tax - shipping_cost_ex_tax",
    },
    expectations=(
        Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 0, "max_value": 10_000_000},
            on_failure="block",
            why="A batch bigger than every order the store ever took means the window broke.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "id"},
            why="One row per order in a batch; a repeated id means paging went wrong.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "date_modified", "column_B": "date_created", "or_equal": True},
            why="An order cannot change before it was placed.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "date_shipped", "column_B": "date_created", "or_equal": True,
             "ignore_row_if": "either_value_is_missing"},
            why="Nothing ships before the order is placed.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "items_total", "column_B": "items_shipped", "or_equal": True},
            why="More units shipped than ordered is a fulfilment error.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "total_inc_tax", "column_B": "refunded_amount", "or_equal": True},
            why="A refund larger than what the buyer paid loses money.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "discount_amount", "column_B": "coupon_discount", "or_equal": True},
            why="The coupon discount is part of the total discount, never more than it.",
        ),
        Expectation(
            "expect_column_values_to_be_between",
            {"column": "total_gap", "min_value": -0.01, "max_value": 0.01},
            why="The total must equal items + shipping + handling + wrapping + tax - discount to "
            "the cent; otherwise revenue reports disagree with what buyers paid.",
        ),
        Expectation(
            "expect_column_values_to_be_between",
            {"column": "shipping_tax", "min_value": -0.01, "max_value": 0.01, "mostly": 0.99},
            on_failure="warn",
            why="The store charges no VAT on shipping; tax on shipping means the tax setup "
            "changed and the total rule above needs revisiting.",
        ),
        Expectation(
            "expect_column_values_to_be_in_set",
            {"column": "order_source", "value_set": ["www", "mobile", "manual"], "mostly": 0.99},
            on_failure="warn",
            why="Orders come from the web shop, the app or staff; a new source is a new "
            "channel the sales reports do not split out yet.",
        ),
        Expectation(
            "expect_column_max_to_be_between",
            {"column": "date_modified", "min_value": Recent(hours=48)},
            on_failure="warn",
            why="Orders change every day; nothing changed in two days means the sync stalled.",
        ),
    ),
)
