"""Contract for `bigcommerce.customers` (`GET /v3/customers`), the CRM team's table.

Every field of BigCommerce's reference for a customer, with the four the extraction asks for
(`include=addresses,attributes,formfields,storecredit`). Strict: a new field in the customer
record may carry personal data nobody has classified yet, so an unknown column is never
published until the contract says what it is. `notes` (staff's words about a person) and
`form_fields` (whatever the account form asked) are free text; `company` names a business.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.base import Contract, Expectation, Owner, Recent
from contracts.bigcommerce.fields import nested, text, v3_time
from contracts.rules import EMAIL

# Customers live in Korea (010-1234-5678, landlines 02-123-4567) or the US (+1 212-555-0134):
# the store ships to both, so a US number is as valid as a Korean one.
PHONE = r"^(?:0\d{1,2}-\d{3,4}-\d{4}|\+1 \d{3}-\d{3}-\d{4})$"


class Customers(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Customer id in BigCommerce.")
    email: Series[str] = text(
        "Login and contact e-mail.", max_length=255, pii="email", str_matches=EMAIL
    )
    first_name: Series[str] = text("Given name.", max_length=100, pii="name")
    last_name: Series[str] = text("Family name.", max_length=100, pii="name")
    company: Series[str] = text("Company name, empty for individuals.", max_length=255)
    phone: Series[str] = text("Contact phone number.", max_length=50, pii="phone")
    registration_ip_address: Series[str] = text(
        "IP address the account was registered from.", max_length=30, pii="ip"
    )
    notes: Series[str] = text("Staff notes about the customer.", pii="free_text")
    tax_exempt_category: Series[str] = text(
        "Tax exemption code, usually empty.", max_length=255
    )
    customer_group_id: Series[int] = pa.Field(ge=0, description="Customer group (0 = none).")
    date_created: Series[pd.DatetimeTZDtype] = v3_time("When the account was created (UTC).")
    date_modified: Series[pd.DatetimeTZDtype] = v3_time(
        "Last change to the account (UTC); the extraction watermark."
    )
    address_count: Series[int] = pa.Field(ge=0, description="Number of saved addresses.")
    attribute_count: Series[int] = pa.Field(ge=0, description="Number of customer attributes.")
    authentication: Series[object] = nested(
        "Login settings ({force_password_reset}: must set a new password at next login)."
    )
    addresses: Series[object] = nested(
        "Saved addresses with name, company, street, phone (JSON array; include=addresses).",
        pii="address",
    )
    attributes: Series[object] = nested(
        "Customer attribute values (JSON array; include=attributes)."
    )
    form_fields: Series[object] = nested(
        "Answers to custom account form fields (JSON array; include=formfields).",
        pii="free_text",
    )
    store_credit_amounts: Series[object] = nested(
        "Store credit balances (JSON array of {amount}; include=storecredit)."
    )
    accepts_product_review_abandoned_cart_emails: Series[bool] = pa.Field(
        description="Marketing consent for review and abandoned-cart e-mails."
    )
    origin_channel_id: Series[int] = pa.Field(
        ge=1, description="Channel the customer signed up on."
    )
    channel_ids: Series[object] = nested("Channels the customer can use (JSON array).")

    class Config:
        description = "BigCommerce customer accounts with addresses, attributes and store credit."
        coerce = True
        strict = True


CONTRACT = Contract(
    source="bigcommerce",
    table="customers",
    model=Customers,
    owner=Owner(team="crm", email="crm-data@commerce.example"),
    primary_key="id",
    modified_column="date_modified",
    max_quarantine_fraction=0.05,
    expectations=(
        Expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 0, "max_value": 5_000_000},
            on_failure="block",
            why="A batch bigger than the whole customer base means the window logic broke.",
        ),
        Expectation(
            "expect_column_values_to_be_unique",
            {"column": "id"},
            why="One row per customer in a batch; a repeated id means paging went wrong.",
        ),
        Expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "date_modified", "column_B": "date_created", "or_equal": True},
            why="An account cannot change before it exists.",
        ),
        Expectation(
            "expect_column_values_to_be_in_set",
            {"column": "customer_group_id", "value_set": [0, 1, 2], "mostly": 0.99},
            on_failure="warn",
            why="The store has two customer groups (1, 2; 0 = none); others mean a new group "
            "nobody mapped.",
        ),
        Expectation(
            "expect_column_values_to_match_regex",
            {"column": "phone", "regex": PHONE, "mostly": 0.95},
            on_failure="warn",
            why="Korean or US phone numbers; a drift here breaks notification delivery.",
        ),
        Expectation(
            "expect_column_max_to_be_between",
            {"column": "date_modified", "min_value": Recent(hours=48)},
            on_failure="warn",
            why="Accounts change every day; nothing changed in two days means the sync stalled.",
        ),
    ),
)
