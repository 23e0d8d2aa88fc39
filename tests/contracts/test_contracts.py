"""The source contracts hold on the sandboxes' clean data and fail loudly when written wrong.

Real data only: the BigCommerce sandbox's records (seed 7, `DatasetSize.scaled(200)`) and the
rows of an embedded PostgreSQL seeded the same way, read through the platform's read-only
resource and staged as JSON exactly as the extraction does (`assets.records.to_json`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pandera.pandas as pa
import pytest
from pandera.typing import Series

from assets.records import to_json
from assets.wise import POINT_TRANSACTIONS, QUOTATIONS
from checks.frame import AuditFrame, frame_from_records
from contracts import CONTRACTS, contract_for
from contracts.base import Contract, ContractError, Expectation, Owner, Recent
from contracts.rules import EMAIL
from resources.postgres import PostgresResource
from sandbox.bigcommerce.data import Dataset, DatasetSize
from sandbox.postgres import start_postgres

SEED, SIZE = 7, 200
# Both sandboxes anchor their data at the current hour; so do these tests.
ANCHOR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
IDS = [contract.qualified_name for contract in CONTRACTS]


@pytest.fixture(scope="module")
def wise_rows(tmp_path_factory) -> dict[str, list[dict]]:
    """The seeded tables as the extraction stages them: read as `gov_reader`, then JSON."""
    sandbox = start_postgres(
        tmp_path_factory.mktemp("contracts_pg"), size=SIZE, seed=SEED, anchor=ANCHOR
    )
    try:
        reader = PostgresResource(url=sandbox.reader_url)
        yield {
            spec.ref.table: [
                json.loads(to_json(row))
                for chunk in reader.stream_table(spec.reader.table, modified_column="updated_at")
                for row in chunk
            ]
            for spec in (POINT_TRANSACTIONS, QUOTATIONS)
        }
    finally:
        sandbox.server.cleanup()


@pytest.fixture(scope="module")
def records(wise_rows) -> dict[str, list[dict]]:
    """Each table's clean records, keyed by contract table name."""
    data = Dataset.generate(SEED, DatasetSize.scaled(SIZE), ANCHOR)
    bigcommerce = {
        "customers": data.customers,
        "customer_metafields": data.customer_metafields,
        "orders": data.orders,
        "order_products": [line for lines in data.order_products.values() for line in lines],
        "products": data.products,
        "inventory": data.inventory_items,
    }
    # Through JSON text, as the API serves the records and the extraction stages them.
    staged = {table: [json.loads(to_json(r)) for r in rows] for table, rows in bigcommerce.items()}
    return {**staged, **wise_rows}


@pytest.fixture(scope="module")
def frames(records) -> dict[str, AuditFrame]:
    return {
        contract.table: frame_from_records(enumerate(records[contract.table], 1), contract)
        for contract in CONTRACTS
    }


# -- the suites, run with Great Expectations in an ephemeral context over the pandas frame --


def _resolved(value: Any) -> Any:
    if isinstance(value, Recent):
        return datetime.now(UTC) - timedelta(hours=value.hours)
    return value


def _gx_expectation(expectation: Expectation) -> Any:
    import great_expectations.expectations as gxe

    name = "".join(part.capitalize() for part in expectation.type.split("_"))
    kwargs = {key: _resolved(value) for key, value in expectation.kwargs.items()}
    return getattr(gxe, name)(**kwargs)


def run_suite(contract: Contract, frame: AuditFrame) -> list[Any]:
    """Every expectation of `contract` run on `frame`: one GX result each (GX may reorder)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    data = contract.schema.coerce_dtype(frame.data)
    for name, expression in contract.derived.items():
        data[name] = data.eval(expression)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("contracts")
        .add_dataframe_asset(contract.table)
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(gx.ExpectationSuite(
        name=contract.qualified_name,
        expectations=[_gx_expectation(e) for e in contract.expectations],
    ))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=contract.qualified_name, data=batch, suite=suite)
    )
    result = validation.run(batch_parameters={"dataframe": data}, result_format="SUMMARY")
    return list(result.results)


# -- 1. clean data passes the Pandera model ----------------------------------------------------


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_clean_data_passes_the_model(contract, frames):
    """Every field of the clean records arrives as the JSON type the contract expects and
    passes its column's rules; every field the records carry has a contract column."""
    frame = frames[contract.table]
    assert frame.rows > 0
    assert frame.mismatches == {}
    contract.model.validate(frame.data, lazy=True)
    assert set(frame.keys_seen) <= set(contract.schema.columns)


# -- 2. clean data passes the GX suite ---------------------------------------------------------


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_clean_data_passes_every_expectation(contract, frames):
    """Each expectation is a real GX 1.24 expectation with real arguments, and holds on the
    clean batch (freshness included: the sandboxes' newest record is hours old)."""
    results = run_suite(contract, frames[contract.table])
    assert len(results) == len(contract.expectations)
    failed = [
        (r.expectation_config.type, r.expectation_config.kwargs, r.result)
        for r in results if not r.success
    ]
    assert failed == []


# -- 3. a broken definition fails when it loads ------------------------------------------------


class Widgets(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, description="Widget id.")

    class Config:
        description = "Widgets, for broken-contract tests."


class WidgetsWithSecret(Widgets):
    email: Series[str] = pa.Field(description="Buyer e-mail.", metadata={"pii": "secret"})


class WidgetsWithoutDescription(Widgets):
    colour: Series[str] = pa.Field()


UNIQUE_SKU = Expectation("expect_column_values_to_be_unique", {"column": "sku"})


def _contract(model: type[pa.DataFrameModel] = Widgets, **overrides: Any) -> Contract:
    return Contract(**{
        "source": "test", "table": "widgets", "model": model,
        "owner": Owner("qa", "qa@commerce.example"), "primary_key": "id", **overrides,
    })


@pytest.mark.parametrize(
    ("broken", "field", "problem"),
    [
        ({"model": WidgetsWithSecret}, "email", "PII class 'secret'"),
        ({"model": WidgetsWithoutDescription}, "colour", "no description"),
        ({"primary_key": "widget_id"}, "widget_id", "is not a column"),
        ({"modified_column": "updated_at"}, "updated_at", "is not a column"),
        ({"expectations": (UNIQUE_SKU,)}, "sku", "neither a model column nor a derived one"),
    ],
    ids=["unknown-pii-class", "no-description", "unknown-key", "unknown-modified", "unknown-read"],
)
def test_broken_definition_names_table_and_field(broken, field, problem):
    """A contract that cannot work raises ContractError naming the table and the field."""
    _contract()  # the unbroken one builds
    with pytest.raises(ContractError) as raised:
        _contract(**broken)
    message = str(raised.value)
    assert "test.widgets" in message
    assert repr(field) in message
    assert problem in message


# -- 4. registry, owners and personal data -----------------------------------------------------


def test_registry_finds_each_contract_once():
    """One contract per table, found by (source, table); an unknown table is a KeyError that
    says which tables do have contracts."""
    assert len(set(IDS)) == len(IDS) == 8
    for contract in CONTRACTS:
        assert contract_for(contract.source, contract.table) is contract
    with pytest.raises(KeyError, match=r"bigcommerce\.coupons.*bigcommerce\.customers"):
        contract_for("bigcommerce", "coupons")


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_governance_is_complete(contract):
    """An owner to write to, a batch-size bound that blocks, the key unique within the batch,
    and (where the source has a modification time) a freshness warning on it."""
    assert re.match(EMAIL, contract.owner.email)
    assert contract.owner.dagster_owners[0] == f"team:{contract.owner.team}"
    by_type: dict[str, list[Expectation]] = {}
    for expectation in contract.expectations:
        by_type.setdefault(expectation.type, []).append(expectation)
        assert expectation.why.strip(), expectation
    assert [e.on_failure for e in by_type["expect_table_row_count_to_be_between"]] == ["block"]
    assert {"column": contract.primary_key} in [
        dict(e.kwargs) for e in by_type["expect_column_values_to_be_unique"]
    ]
    fresh = [e.kwargs["column"] for e in by_type.get("expect_column_max_to_be_between", [])
             if isinstance(e.kwargs.get("min_value"), Recent)]
    assert fresh == ([contract.modified_column] if contract.modified_column else [])


KNOWN_PII = {
    "customers": {"email": "email", "phone": "phone", "first_name": "name",
                  "last_name": "name", "addresses": "address", "registration_ip_address": "ip"},
    "orders": {"billing_address": "address", "ip_address": "ip"},
    "quotations": {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"},
}
# What the sandboxes write as e-mails, phone numbers and IP addresses, anywhere in a value.
PERSONAL = {
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "phone": re.compile(r"(?<![\w-])(0\d{1,2}-\d{3,4}-\d{4}|\+1 \d{3}-\d{3}-\d{4})(?![\w-])"),
    "ip": re.compile(r"(?<![\w.])\d{1,3}(\.\d{1,3}){3}(?![\w.])"),
}


@pytest.mark.parametrize("contract", CONTRACTS, ids=IDS)
def test_personal_data_is_classified(contract, frames):
    """The columns the generators fill with a person's name, e-mail, phone or address carry
    their PII class; and no column whose clean values contain an e-mail, phone number or IP
    address (nested ones included) is left unclassified."""
    pii = contract.pii_columns
    assert KNOWN_PII.get(contract.table, {}).items() <= pii.items()
    frame = frames[contract.table]
    for column in frame.data.columns:
        text = "\n".join(to_json(value) for value in frame.data[column].dropna())
        found = [kind for kind, pattern in PERSONAL.items() if pattern.search(text)]
        assert not found or column in pii, f"{contract.table}.{column} holds {found}"


def test_reading_the_contracts_does_not_import_great_expectations():
    """GX costs ~3 s to import; the definitions read every contract, so contracts stay light."""
    code = "import sys, contracts; sys.exit('great_expectations' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
