"""Contract for `bigcommerce.products` (`GET /v3/catalog/products?include=variants`).

The merchandising team's catalog: every field of BigCommerce's reference for a product, plus
`variants` (the one `include=` the extraction asks for). Identity, prices, stock and
visibility are here; how it is listed and sold in `products_fields.py`. Not strict: a product
describes goods, never a person, and the API grows optional fields (`include=images`, ...),
which the schema audit records without blocking. v3 catalog money is numeric (JSON numbers),
not the v2 strings, and in the store's currency (KRW).
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import Contract, Expectation, Owner, Recent
from contracts.bigcommerce.fields import INT32_MAX, money, nested, text, v3_time
from contracts.bigcommerce.products_fields import MAX_SIZE, ProductListing


def _stock(description: str) -> pa.Field:
    return pa.Field(ge=0, le=INT32_MAX, description=description)


class Products(ProductListing):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Product id in BigCommerce.")
    name: Series[str] = text("Product name.", max_length=250, str_length={"min_value": 1})
    type: Series[str] = pa.Field(isin=["physical", "digital"], description="Kind of product.")
    sku: Series[str] = text("Stock keeping unit of the product.", max_length=255)
    description: Series[str] = text("Product page text (HTML).")
    weight: Series[float] = pa.Field(
        ge=0, le=MAX_SIZE, description="Shipping weight, in the store's unit (kg)."
    )
    # A catalog price in won, VAT exclusive; 0 means "not set" (sale, cost or retail).
    price: Series[float] = money("List price (KRW, before VAT).")
    cost_price: Series[float] = money("What the store pays for it (KRW); 0 if unknown.")
    retail_price: Series[float] = money("Recommended retail price (KRW); 0 if none.")
    sale_price: Series[float] = money("Sale price (KRW); 0 when not on sale.")
    calculated_price: Series[float] = money("Price the shop shows: the sale price, else list.")
    categories: Series[object] = nested("Category ids (JSON array).")
    brand_id: Series[int] = pa.Field(ge=0, le=1_000_000_000, description="Brand (0 = none).")
    inventory_level: Series[int] = _stock("Units in stock over variants.")
    inventory_warning_level: Series[int] = _stock(
        "Stock level that triggers a low-stock warning."
    )
    inventory_tracking: Series[str] = pa.Field(
        isin=["none", "product", "variant"], description="Where stock is counted."
    )
    is_visible: Series[bool] = pa.Field(description="Shown on the storefront.")
    is_featured: Series[bool] = pa.Field(description="Featured on the storefront.")
    availability: Series[str] = pa.Field(
        isin=["available", "disabled", "preorder"], description="Whether it can be bought."
    )
    condition: Series[str] = pa.Field(
        isin=["New", "Used", "Refurbished"], description="Condition of the goods."
    )
    custom_url: Series[object] = nested("Storefront URL ({url, is_customized}).")
    date_created: Series[pd.DatetimeTZDtype] = v3_time("When the product was created (UTC).")
    date_modified: Series[pd.DatetimeTZDtype] = v3_time(
        "Last change to the product (UTC); the extraction watermark."
    )
    base_variant_id: Series[pd.Int64Dtype] = pa.Field(
        ge=1, nullable=True, description="Its base variant; empty when it has several."
    )
    total_sold: Series[int] = pa.Field(ge=0, description="Units sold over its lifetime.")
    variants: Series[object] = nested(
        "Variants with their own SKU, options, price and stock (JSON array; include=variants)."
    )

    class Config:
        description = "BigCommerce catalog products with prices, stock and their variants."
        coerce = True
        strict = False


CONTRACT = Contract(
    source="bigcommerce",
    table="products",
    model=Products,
    owner=Owner(team="merchandising", email="merch-data@commerce.example"),
    primary_key="id",
    modified_column="date_modified",
    max_quarantine_fraction=0.05,
    numbers_as="number",  # v3 sends prices and sizes as JSON numbers
    expectations=(
        Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 0, "max_value": 1_000_000},
            on_failure="block",
            why="The catalog holds thousands of products; a million means paging looped.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "id"},
            why="One row per product in a batch; a repeated id means paging went wrong.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "sku"},
            why="Warehouse and orders find a product by its SKU; two products with one SKU "
            "ship the wrong goods.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "date_modified", "column_B": "date_created", "or_equal": True},
            why="A product cannot change before it exists.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "price", "column_B": "calculated_price", "or_equal": True},
            why="The shop never shows more than the list price; a higher one overcharges.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "price", "column_B": "cost_price", "or_equal": True, "mostly": 0.95},
            on_failure="warn",
            why="Selling below cost is sometimes deliberate, but more than a few such products "
            "means prices or costs were entered wrongly.",
        ),
        Expectation(
            "expect_column_values_to_be_in_set",
            {"column": "brand_id", "value_set": [1, 2, 3, 4], "mostly": 0.99},
            on_failure="warn",
            why="The store carries four brands; another id is a brand the reports do not name.",
        ),
        Expectation(
            "expect_column_max_to_be_between",
            {"column": "date_modified", "min_value": Recent(hours=48)},
            on_failure="warn",
            why="Stock and prices change daily; nothing changed in two days means the sync "
            "stalled.",
        ),
    ),
)
