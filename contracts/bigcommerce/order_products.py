"""Contract for `bigcommerce.order_products` (`GET /v2/orders/{id}/products`), commerce's table.

Every field of BigCommerce's reference for an order line: the goods, options, wrapping and
event fields in `order_products_fields.py` (with why three of them are free text), the money
and quantities here. Not strict: a line item names a product, so a new field is recorded by
the schema audit but does not block. Money arrives as 4-decimal strings (read exactly, via
`Decimal`) in the order's transactional currency (its `default_currency_code`). Lines carry
no modification time: each takes its order's when it is extracted.
"""

import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import Contract, Expectation, Owner, Relation
from contracts.bigcommerce.fields import money
from contracts.bigcommerce.order_products_fields import OrderLineGoods


def _amount(what: str) -> pa.Field:
    return money(f"{what}, in the order's transactional currency.")


class OrderProducts(OrderLineGoods):
    quantity: Series[int] = pa.Field(ge=1, description="Units ordered.")
    quantity_shipped: Series[int] = pa.Field(ge=0, description="Units shipped so far.")
    quantity_refunded: Series[int] = pa.Field(ge=0, description="Units refunded so far.")
    base_price: Series[float] = _amount("Catalog unit price before tax")
    price_ex_tax: Series[float] = _amount("Unit price charged, before tax")
    price_inc_tax: Series[float] = _amount("Unit price charged, with tax")
    price_tax: Series[float] = _amount("Tax on one unit")
    base_total: Series[float] = _amount("Catalog price times quantity, before tax")
    total_ex_tax: Series[float] = _amount("Line total before tax")
    total_inc_tax: Series[float] = _amount("Line total with tax")
    total_tax: Series[float] = _amount("Tax on the line")
    discounted_total_inc_tax: Series[float] = _amount("Line total with tax, after discounts")
    applied_discounts: Series[object] = pa.Field(
        description="Discounts applied to the line (JSON array of {id, amount, name, code, "
        "target})."
    )
    base_cost_price: Series[float] = _amount("What one unit cost the store, as entered")
    cost_price_ex_tax: Series[float] = _amount("What one unit cost the store, before tax")
    cost_price_inc_tax: Series[float] = _amount("What one unit cost the store, with tax")
    cost_price_tax: Series[float] = _amount("Tax on the cost of one unit")
    fixed_shipping_cost: Series[float] = _amount("Fixed shipping charge the product carries")
    base_wrapping_cost: Series[float] = pa.Field(  # the reference allows a string or a number
        ge=0, description="Gift wrapping as priced, before tax adjustments, in the order's "
        "transactional currency.", metadata={"json": "either"})
    wrapping_cost_ex_tax: Series[float] = _amount("Gift wrapping before tax")
    wrapping_cost_inc_tax: Series[float] = _amount("Gift wrapping with tax")
    wrapping_cost_tax: Series[float] = _amount("Tax on gift wrapping")
    is_refunded: Series[bool] = pa.Field(description="Whether the line was refunded.")
    refund_amount: Series[float] = _amount("Amount refunded on the line")

    class Config:
        description = "Line items of BigCommerce orders (v2): product, quantities and money."
        coerce = True
        strict = False


CONTRACT = Contract(
    source="bigcommerce",
    table="order_products",
    model=OrderProducts,
    owner=Owner(team="commerce", email="commerce-data@commerce.example"),
    primary_key="id",
    modified_column=None,
    # As for orders: a missing line makes its order's total disagree with its lines, so beyond
    # 1% of a batch the batch is blocked rather than published short.
    max_quarantine_fraction=0.01,
    parents=(Relation("order_id", "bigcommerce.orders"),),  # an order publishes with its lines
    numbers_as="string",  # v2 sends amounts, rates and sizes as decimal strings
    derived={
        "line_total_gap": "total_inc_tax - price_inc_tax * quantity",
        "line_tax_gap": "total_inc_tax - (total_ex_tax + total_tax)",
    },
    expectations=(
        Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 0, "max_value": 50_000_000},
            on_failure="block",
            why="A few lines per order at most; more rows than that means the fan-out looped.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "id"},
            why="One row per order line in a batch; a repeated id means an order was read twice.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "quantity", "column_B": "quantity_shipped", "or_equal": True},
            why="More units shipped than ordered is a fulfilment error.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "quantity", "column_B": "quantity_refunded", "or_equal": True},
            why="More units refunded than ordered loses money.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "total_inc_tax", "column_B": "refund_amount", "or_equal": True},
            why="A line cannot refund more than it cost.",
        ),
        Expectation(
            "expect_column_values_to_be_between",
            {"column": "line_total_gap", "min_value": -0.01, "max_value": 0.01},
            why="A line total must be its unit price times its quantity, to the cent.",
        ),
        Expectation(
            "expect_column_values_to_be_between",
            {"column": "line_tax_gap", "min_value": -0.01, "max_value": 0.01},
            why="A line's total with tax must be its total before tax plus its tax.",
        ),
        Expectation(
            "expect_column_values_to_be_in_set",
            {"column": "type", "value_set": ["physical"], "mostly": 0.99},
            on_failure="warn",
            why="The store sells physical goods only; digital items or gift certificates mean "
            "a new line of business the fulfilment reports do not cover.",
        ),
    ),
)
