"""Contract for `bigcommerce.customer_metafields` (`GET /v3/customers/metafields`), CRM's table.

Every field of BigCommerce's reference for a metafield. Not strict: a metafield record is a
fixed key-value envelope (the personal part is `value`, classified below; `owner_client_id`
names an app, not a person), so a new envelope field is recorded by the schema audit but does
not block. Fields with `permission_set: app_only` are private to the app that wrote them, so
another app's token never sees them: a batch holds what this app may read.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import Contract, Expectation, Owner, Recent, Relation
from contracts.bigcommerce.fields import text, v3_time

# BigCommerce limits namespaces and keys to 64 characters; the store uses snake_case names.
NAME = r"^[A-Za-z0-9_.\-]{1,64}$"
# Who may read or write a metafield, as the v3 API names the permission sets.
PERMISSION_SETS = ["app_only", "read", "write", "read_and_sf_access", "write_and_sf_access"]


class CustomerMetafields(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Metafield id in BigCommerce.")
    key: Series[str] = text(
        "Name of the field within its namespace (tier, ...).", max_length=64, str_matches=NAME
    )
    value: Series[str] = text(
        "The stored value; apps put customer details here (birth month, consent).",
        max_length=65_535, pii="free_text",
    )
    namespace: Series[str] = text(
        "Group of related keys, usually the owning app (crm, ...).",
        max_length=64, str_matches=NAME,
    )
    permission_set: Series[str] = pa.Field(
        isin=PERMISSION_SETS, description="Who may read or write it (apps, storefront)."
    )
    description: Series[str] = text("What the field is for, set by the app.", max_length=255)
    resource_type: Series[str] = pa.Field(
        isin=["customer"], description="Kind of record the field belongs to: always a customer."
    )
    resource_id: Series[int] = pa.Field(ge=1, description="Id of the customer it belongs to.")
    owner_client_id: Series[str] = text(
        "API client id of the app that wrote the field (which app to ask about it)."
    )
    date_created: Series[pd.DatetimeTZDtype] = v3_time("When the field was first set (UTC).")
    date_modified: Series[pd.DatetimeTZDtype] = v3_time(
        "Last change to the field (UTC); the extraction watermark."
    )

    class Config:
        description = "Key-value metafields that apps attach to BigCommerce customers."
        coerce = True
        strict = False


CONTRACT = Contract(
    source="bigcommerce",
    table="customer_metafields",
    model=CustomerMetafields,
    owner=Owner(team="crm", email="crm-data@commerce.example"),
    primary_key="id",
    modified_column="date_modified",
    max_quarantine_fraction=0.05,
    parents=(Relation("resource_id", "bigcommerce.customers"),),
    expectations=(
        Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 0, "max_value": 10_000_000},
            on_failure="block",
            why="A few metafields per customer at most; more rows than that means paging looped.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "id"},
            why="One row per metafield in a batch; a repeated id means paging went wrong.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "date_modified", "column_B": "date_created", "or_equal": True},
            why="A metafield cannot change before it was first set.",
        ),
        Expectation(
            "expect_column_values_to_be_in_set",
            {"column": "namespace", "value_set": ["loyalty", "crm"], "mostly": 0.99},
            on_failure="warn",
            why="The CRM and loyalty apps write these; another namespace is a new app whose "
            "fields nobody has classified for personal data yet.",
        ),
        Expectation(
            "expect_column_max_to_be_between",
            # A week, not two days: metafields change only when an app writes one, and with a
            # small customer base a quiet day or two is normal.
            {"column": "date_modified", "min_value": Recent(hours=7 * 24)},
            on_failure="warn",
            why="Loyalty tiers and consents are updated weekly at least; a silent week means "
            "the sync stalled.",
        ),
    ),
)
