"""Contract for `bigcommerce.inventory` (`GET /v3/inventory/items`), merchandising's table.

A snapshot of the variants of the products on sale: each record is `{"identity": {...},
"locations": [...]}` (the reference's two fields), so the variant id, product id and SKU are
lifted out of `identity` into columns of their own, where the key, uniqueness and format rules
can reach them. Not strict: stock records name goods and warehouses, never people. There is no
modification time.
"""

import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import HOURLY, Contract, Expectation, Owner


class Inventory(pa.DataFrameModel):
    identity: Series[object] = pa.Field(
        description="Which variant the item is ({sku, variant_id, product_id, sku_id})."
    )
    locations: Series[object] = pa.Field(
        description="Stock per location: id, code, name, enabled, on hand, available to sell, "
        "settings (JSON array)."
    )
    variant_id: Series[int] = pa.Field(
        ge=1, unique=True, description="Variant id, lifted from `identity`; the key."
    )
    product_id: Series[int] = pa.Field(ge=1, description="Product id, lifted from `identity`.")
    sku: Series[str] = pa.Field(
        str_length={"min_value": 1}, description="Variant SKU, lifted from `identity`."
    )

    class Config:
        description = "Stock per variant and warehouse for the products currently on sale."
        coerce = True
        strict = False


CONTRACT = Contract(
    source="bigcommerce",
    table="inventory",
    model=Inventory,
    owner=Owner(team="merchandising", email="merch-data@commerce.example"),
    primary_key="variant_id",
    modified_column=None,
    # A snapshot replaces the previous one: published short, the quarantined variants would
    # vanish from "current stock" and look sold out. Any bad row blocks the snapshot instead,
    # and the previous one stays current.
    max_quarantine_fraction=0.0,
    freshness=HOURLY,  # read every hour for the stock notifications
    lift={
        "variant_id": "identity.variant_id",
        "product_id": "identity.product_id",
        "sku": "identity.sku",
    },
    expectations=(
        Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 0, "max_value": 5_000_000},
            on_failure="block",
            why="One row per variant on sale; more rows than the whole catalog has variants "
            "means the product batches were read twice.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "variant_id"},
            why="A snapshot holds each variant once; a repeat would double its stock.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "sku"},
            why="Pickers find stock by SKU; two variants sharing one ship the wrong goods.",
        ),
    ),
)
