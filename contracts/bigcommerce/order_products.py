"""Contract for `bigcommerce.order_products` (`GET /v2/orders/{id}/products`), commerce's table.

Not strict: a line item names a product, never a person, so a new field is recorded by the
schema audit but does not block. Money arrives as 4-decimal strings (read exactly, via
`Decimal`). Lines carry no modification time: each takes its order's when it is extracted.
"""

import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import Contract, Expectation, Owner


def _money(description: str) -> pa.Field:
    """An amount that can never be negative, sent as a 4-decimal string."""
    return pa.Field(ge=0, description=description)


class OrderProducts(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Order line id in BigCommerce.")
    order_id: Series[int] = pa.Field(ge=1, description="Order the line belongs to.")
    product_id: Series[int] = pa.Field(ge=0, description="Catalog product (0 if custom).")
    variant_id: Series[int] = pa.Field(ge=0, description="Catalog variant (0 if custom).")
    name: Series[str] = pa.Field(str_length={"min_value": 1}, description="Product name.")
    sku: Series[str] = pa.Field(description="Stock keeping unit of the variant sold.")
    type: Series[str] = pa.Field(
        isin=["physical", "digital", "giftcertificate"], description="Kind of item."
    )
    base_price: Series[float] = _money("Catalog unit price before tax.")
    price_ex_tax: Series[float] = _money("Unit price charged, before tax.")
    price_inc_tax: Series[float] = _money("Unit price charged, with tax.")
    price_tax: Series[float] = _money("Tax on one unit.")
    base_total: Series[float] = _money("Catalog price times quantity, before tax.")
    total_ex_tax: Series[float] = _money("Line total before tax.")
    total_inc_tax: Series[float] = _money("Line total with tax.")
    total_tax: Series[float] = _money("Tax on the line.")
    quantity: Series[int] = pa.Field(ge=1, description="Units ordered.")
    quantity_shipped: Series[int] = pa.Field(ge=0, description="Units shipped so far.")
    quantity_refunded: Series[int] = pa.Field(ge=0, description="Units refunded so far.")
    is_refunded: Series[bool] = pa.Field(description="Whether the line was refunded.")
    refund_amount: Series[float] = _money("Amount refunded on the line.")
    brand: Series[str] = pa.Field(description="Brand name of the product.")
    upc: Series[str] = pa.Field(
        str_matches=r"^(?:\d{12,14})?$", description="Barcode (UPC/EAN), empty if none."
    )
    applied_discounts: Series[object] = pa.Field(
        description="Discounts applied to the line (JSON array of {id, amount, code, ...})."
    )
    product_options: Series[object] = pa.Field(
        description="Options chosen, such as size or colour (JSON array)."
    )

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
