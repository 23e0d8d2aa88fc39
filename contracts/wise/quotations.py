"""Contract for `wise.quotations` (PostgreSQL `public.quotation`), the sales team's table.

Strict: quotations name B2B contacts, so a new column may hold personal data nobody has
classified yet; it blocks until the contract says what it is.

Rows are staged as JSON (`assets.records.to_json`): `timestamptz` becomes ISO-8601 with its
offset, `numeric` a decimal string (read exactly, via `Decimal`), `jsonb` stays nested and
`date` is "YYYY-MM-DD". Nullability and the CHECK constraints mirror the table's DDL.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import Contract, Expectation, Owner, Recent
from contracts.rules import CURRENCIES, EMAIL

TIME = {"dtype_kwargs": {"unit": "ns", "tz": "UTC"}}
ISO = {"format": "iso8601"}
STATUSES = ["draft", "sent", "accepted", "rejected", "expired"]
# Contacts are Korean offices: mobile (010-1234-5678) or landline (02-123-4567) numbers.
KOREAN_PHONE = r"^0\d{1,2}-\d{3,4}-\d{4}$"


class Quotations(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Quotation id.")
    quotation_number: Series[str] = pa.Field(
        unique=True,
        str_matches=r"^Q-\d{4}-\d{6,}$",
        description="Number printed on the quotation: Q-<year>-<sequence>.",
    )
    customer_id: Series[pd.Int64Dtype] = pa.Field(
        ge=1, nullable=True, description="BigCommerce customer id; empty for a prospect."
    )
    company_name: Series[str] = pa.Field(nullable=True, description="Company quoted.")
    contact_name: Series[str] = pa.Field(
        nullable=True, description="Person the quotation is for.", metadata={"pii": "name"}
    )
    contact_email: Series[str] = pa.Field(
        nullable=True,
        str_matches=EMAIL,
        description="That person's e-mail.",
        metadata={"pii": "email"},
    )
    contact_phone: Series[str] = pa.Field(
        nullable=True, description="That person's phone number.", metadata={"pii": "phone"}
    )
    status: Series[str] = pa.Field(
        isin=STATUSES, nullable=True, description="Where the quotation stands in the sale."
    )
    currency_code: Series[str] = pa.Field(
        isin=CURRENCIES, nullable=True, description="Currency of the amounts."
    )
    total_amount: Series[float] = pa.Field(
        ge=0,
        lt=10**10,  # numeric(14, 4): ten digits before the point
        description="Sum of the items (quantity x unit price), exact to 4 decimals.",
    )
    items: Series[object] = pa.Field(
        description="Quoted items (JSON array of {sku, name, quantity, unit_price})."
    )
    valid_until: Series[str] = pa.Field(
        nullable=True,
        str_matches=r"^\d{4}-\d{2}-\d{2}$",
        description="Last day the offer holds (Seoul calendar date, YYYY-MM-DD).",
    )
    note: Series[str] = pa.Field(
        nullable=True, description="Sales rep's note.", metadata={"pii": "free_text"}
    )
    created_at: Series[pd.DatetimeTZDtype] = pa.Field(
        **TIME, description="When the quotation was drawn up (UTC).", metadata=ISO
    )
    updated_at: Series[pd.DatetimeTZDtype] = pa.Field(
        **TIME, description="Last change to it (UTC); the extraction watermark.", metadata=ISO
    )

    class Config:
        description = "B2B quotations to companies, with their contact and quoted items."
        coerce = True
        strict = True


CONTRACT = Contract(
    source="wise",
    table="quotations",
    model=Quotations,
    owner=Owner(team="sales", email="sales-data@commerce.example"),
    primary_key="id",
    modified_column="updated_at",
    max_quarantine_fraction=0.05,
    expectations=(
        Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 0, "max_value": 1_000_000},
            on_failure="block",
            why="The sales team issues a few quotations a day; a million means the window broke.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "id"},
            why="One row per quotation in a batch; a repeat would double the pipeline value.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "updated_at", "column_B": "created_at", "or_equal": True},
            why="A quotation cannot change before it was drawn up.",
        ),
        Expectation(
            "expect_column_values_to_not_be_null",
            {"column": "contact_email", "mostly": 0.95},
            on_failure="warn",
            why="Sales follows up by e-mail; quotations without a contact get lost.",
        ),
        Expectation(
            "expect_column_values_to_match_regex",
            {"column": "contact_phone", "regex": KOREAN_PHONE, "mostly": 0.95},
            on_failure="warn",
            why="Contacts are Korean offices; other formats mean the phone field is misused.",
        ),
        Expectation(
            "expect_column_values_to_be_in_set",
            {"column": "currency_code", "value_set": ["KRW"], "mostly": 0.5},
            on_failure="warn",
            why="Most quotations are in won; a majority in dollars means the currency was "
            "entered wrongly or the business shifted, and revenue forecasts need a look.",
        ),
        Expectation(
            "expect_column_max_to_be_between",
            # Two weeks: a few quotations a week is the normal rhythm, and a quiet week is not
            # a failure of the sync.
            {"column": "updated_at", "min_value": Recent(hours=14 * 24)},
            on_failure="warn",
            why="Quotations change weekly at least; nothing changed in two weeks means the "
            "sync stalled.",
        ),
    ),
)
