"""Contract for `wise.point_transactions` (PostgreSQL `public.point_transaction`), loyalty's ledger.

Strict: the ledger is a table we read with `SELECT *`, so a new column is a schema change in
the source that may carry personal data; it blocks until the contract says what it is.

Rows are staged as JSON (`assets.records.to_json`): `timestamptz` becomes an ISO-8601 string
with its offset. The table's CHECK constraints are mirrored here, so a batch from a replica or
a dump that lost them is still held to them: the type set and the non-zero points as column
rules, the sign of `points` per type as a GX rule on the derived `points_sign`.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import Contract, Expectation, Owner, Recent

TIME = {"dtype_kwargs": {"unit": "ns", "tz": "UTC"}}
ISO = {"format": "iso8601"}
TYPES = ["earn", "redeem", "expire", "adjust"]


class PointTransactions(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Ledger entry id.")
    customer_id: Series[int] = pa.Field(ge=1, description="BigCommerce customer id.")
    order_id: Series[pd.Int64Dtype] = pa.Field(
        ge=1, nullable=True, description="Order that earned or spent the points; empty if none."
    )
    transaction_type: Series[str] = pa.Field(
        isin=TYPES,
        description="earn (purchase), redeem (spent at checkout), expire, or adjust (staff).",
    )
    points: Series[int] = pa.Field(
        ne=0, description="Points added (positive) or taken (negative); never zero."
    )
    balance_after: Series[int] = pa.Field(
        ge=0, description="The customer's balance after this entry; never negative."
    )
    description: Series[str] = pa.Field(
        nullable=True,
        description="Why the points moved, written by staff or the shop.",
        metadata={"pii": "free_text"},
    )
    created_at: Series[pd.DatetimeTZDtype] = pa.Field(
        **TIME, description="When the entry was booked (UTC).", metadata=ISO
    )
    updated_at: Series[pd.DatetimeTZDtype] = pa.Field(
        **TIME, description="Last correction of the entry (UTC); the extraction watermark.",
        metadata=ISO,
    )

    class Config:
        description = "Loyalty point ledger: every earn, redeem, expiry and adjustment."
        coerce = True
        strict = True


CONTRACT = Contract(
    source="wise",
    table="point_transactions",
    model=PointTransactions,
    owner=Owner(team="loyalty", email="loyalty-data@commerce.example"),
    primary_key="id",
    modified_column="updated_at",
    # A ledger is a running sum: with an entry missing, every later `balance_after` of that
    # customer looks wrong downstream. Any bad row blocks the batch instead.
    max_quarantine_fraction=0.0,
    # +1 or -1 (0/0 is NaN for zero points, which no rule accepts).
    derived={"points_sign": "points / abs(points)"},
    expectations=(
        Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 0, "max_value": 50_000_000},
            on_failure="block",
            why="A batch bigger than the whole ledger could be means the window logic broke.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "id"},
            why="One row per ledger entry; a repeat would count the points twice.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "updated_at", "column_B": "created_at", "or_equal": True},
            why="An entry cannot be corrected before it was booked.",
        ),
        Expectation(
            "expect_column_pair_values_to_be_in_set",
            {"column_A": "transaction_type", "column_B": "points_sign",
             "value_pairs_set": [["earn", 1], ["redeem", -1], ["expire", -1], ["adjust", 1],
                                 ["adjust", -1]]},
            why="Earning adds points, redeeming and expiry take them away, adjustments go "
            "either way (the source table's own rule); a wrong sign corrupts balances.",
        ),
        Expectation(
            "expect_column_values_to_be_in_set",
            {"column": "transaction_type", "value_set": ["earn", "redeem"], "mostly": 0.7},
            on_failure="warn",
            why="Most entries are purchases and redemptions; a surge of expiries or manual "
            "adjustments is worth a look by the loyalty team.",
        ),
        Expectation(
            "expect_column_max_to_be_between",
            {"column": "updated_at", "min_value": Recent(hours=48)},
            on_failure="warn",
            why="Customers earn points every day; nothing booked in two days means the sync "
            "stalled.",
        ),
    ),
)
