"""Contract for `bigcommerce.orders` (`GET /v2/orders`), the commerce team's table.

Strict: an order carries addresses and messages, so a new field may hold personal data nobody
has classified yet; an unknown column blocks the batch until the contract says what it is.

v2 sends dates as RFC-2822 (`date_shipped` is "" until something ships) and money as 4-decimal
strings, which the audit frame reads exactly (through `Decimal`) before comparing numbers.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import Contract, Expectation, Owner, Recent
from contracts.rules import CURRENCIES

# The v2 order statuses, (status_id, status), as BigCommerce defines them.
STATUSES = [
    (0, "Incomplete"), (1, "Pending"), (2, "Shipped"), (3, "Partially Shipped"),
    (4, "Refunded"), (5, "Cancelled"), (6, "Declined"), (7, "Awaiting Payment"),
    (8, "Awaiting Pickup"), (9, "Awaiting Shipment"), (10, "Completed"),
    (11, "Awaiting Fulfillment"), (12, "Manual Verification Required"), (13, "Disputed"),
    (14, "Partially Refunded"),
]
PAYMENT_STATUSES = [
    "", "authorized", "captured", "capture pending", "declined", "held for review", "paid",
    "partially refunded", "pending", "refunded", "void", "void pending",
]
# Empty for orders staff enter by hand; else an IPv4 or IPv6 address.
IP = r"^$|^\d{1,3}(?:\.\d{1,3}){3}$|^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*$"
UUID = r"^$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIME = {"dtype_kwargs": {"unit": "ns", "tz": "UTC"}}
RFC2822 = {"format": "rfc2822"}


def _money(description: str) -> pa.Field:
    """An amount that can never be negative, sent as a 4-decimal string."""
    return pa.Field(ge=0, description=description)


class Orders(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Order id (the store starts at 100).")
    customer_id: Series[int] = pa.Field(ge=0, description="Customer who ordered; 0 for a guest.")
    date_created: Series[pd.DatetimeTZDtype] = pa.Field(
        **TIME, description="When the order was placed (UTC).", metadata=RFC2822
    )
    date_modified: Series[pd.DatetimeTZDtype] = pa.Field(
        **TIME, description="Last change to the order (UTC); the extraction watermark.",
        metadata=RFC2822,
    )
    date_shipped: Series[pd.DatetimeTZDtype] = pa.Field(
        **TIME, nullable=True, description="When the first item shipped (UTC); empty if none.",
        metadata=RFC2822,
    )
    status_id: Series[int] = pa.Field(
        isin=[status_id for status_id, _ in STATUSES], description="Order status code."
    )
    status: Series[str] = pa.Field(
        isin=[status for _, status in STATUSES], description="Order status name."
    )
    cart_id: Series[str] = pa.Field(
        str_matches=UUID, description="Storefront cart the order came from; empty if manual."
    )
    channel_id: Series[int] = pa.Field(ge=1, description="Sales channel (1 = the storefront).")
    order_source: Series[str] = pa.Field(description="Where it was placed (www, mobile, manual).")
    currency_code: Series[str] = pa.Field(isin=CURRENCIES, description="Currency the buyer paid.")
    currency_exchange_rate: Series[float] = pa.Field(
        gt=0, description="Store currency per unit of the order currency (KRW per KRW is 1)."
    )
    default_currency_code: Series[str] = pa.Field(
        isin=CURRENCIES, description="The store's own currency."
    )
    payment_method: Series[str] = pa.Field(description="How it was paid (Credit Card, ...).")
    payment_status: Series[str] = pa.Field(
        isin=PAYMENT_STATUSES, description="State of the payment at the gateway."
    )
    items_total: Series[int] = pa.Field(ge=0, description="Units ordered, over all lines.")
    items_shipped: Series[int] = pa.Field(ge=0, description="Units shipped so far.")
    is_deleted: Series[bool] = pa.Field(description="Archived by staff (kept for accounting).")
    ip_address: Series[str] = pa.Field(
        str_matches=IP, description="IP address the order was placed from.", metadata={"pii": "ip"}
    )
    geoip_country_iso2: Series[str] = pa.Field(
        str_matches=r"^(?:[A-Z]{2})?$", description="Country of that IP (ISO 3166 alpha-2)."
    )
    staff_notes: Series[str] = pa.Field(
        description="Staff notes about the order.", metadata={"pii": "free_text"}
    )
    customer_message: Series[str] = pa.Field(
        description="The buyer's message at checkout.", metadata={"pii": "free_text"}
    )
    subtotal_ex_tax: Series[float] = _money("Items before tax and discount.")
    subtotal_inc_tax: Series[float] = _money("Items with tax, before discount.")
    subtotal_tax: Series[float] = _money("Tax on the items (10% VAT).")
    total_ex_tax: Series[float] = _money("Order total before tax.")
    total_inc_tax: Series[float] = _money("What the buyer pays: the order total with tax.")
    total_tax: Series[float] = _money("All tax on the order.")
    shipping_cost_ex_tax: Series[float] = _money("Shipping before tax.")
    shipping_cost_inc_tax: Series[float] = _money("Shipping with tax (the store taxes none).")
    discount_amount: Series[float] = _money("All discounts, taken off the ex-tax amount.")
    coupon_discount: Series[float] = _money("The part of the discount that came from coupons.")
    refunded_amount: Series[float] = _money("Amount refunded so far.")
    store_credit_amount: Series[float] = _money("Store credit spent on the order.")
    billing_address: Series[object] = pa.Field(
        description="Billing name, postal address, phone and e-mail (JSON object).",
        metadata={"pii": "address"},
    )
    products: Series[object] = pa.Field(description="Link to the order's lines ({url, resource}).")
    shipping_addresses: Series[object] = pa.Field(
        description="Link to the shipping addresses ({url, resource}); the link holds no address."
    )
    coupons: Series[object] = pa.Field(description="Link to the coupons used ({url, resource}).")

    @pa.dataframe_check(name="status_name_matches_code")
    def status_name_matches_code(cls, df: pd.DataFrame) -> pd.Series:
        """A status code must carry its own name; a mismatch means the order is reported
        under the wrong status. (A vectorized Pandera check: GX's pair-set expectation walks
        the rows one by one and costs more than every other rule together.)"""
        expected = df["status_id"].map(dict(STATUSES))
        return df["status"].eq(expected).fillna(False).astype(bool)

    class Config:
        description = "BigCommerce orders (v2): status, payment, money and billing address."
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
    # The generator's invariant (VAT on items only, discount off the ex-tax amount):
    # total_inc_tax = subtotal_ex_tax + shipping_cost_inc_tax + total_tax - discount_amount.
    derived={
        "total_gap": "total_inc_tax - (subtotal_ex_tax + shipping_cost_inc_tax + total_tax"
        " - discount_amount)",
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
            why="The total must equal items + shipping + tax - discount to the cent; otherwise "
            "revenue reports disagree with what buyers paid.",
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
