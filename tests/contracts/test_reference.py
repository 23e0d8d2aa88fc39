"""Each BigCommerce contract follows BigCommerce's published reference, field by field.

The judge is the field catalogue in `sandbox/bigcommerce/reference/` (extracted from
BigCommerce's OpenAPI files): a contract names every field the catalogue declares for its
endpoint's default response plus the `include=` fields the extraction asks for, and nothing
else but its documented lifted columns; each column's type accepts the declared JSON type;
nullable, enum, maxLength and numeric bounds of the catalogue are honoured.
"""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checks import frame
from contracts import contract_for
from contracts.base import Contract
from resources.environment import REPO_ROOT

CATALOGUE = json.loads(
    (REPO_ROOT / "sandbox/bigcommerce/reference/bigcommerce-reference.json").read_text()
)
# contract table -> (catalogue endpoint, include= values the extraction sends, strict).
ENDPOINTS = {
    "customers": ("customers", {"addresses", "attributes", "formfields", "storecredit"}, True),
    "customer_metafields": ("customer_metafields", set(), False),
    "orders": ("orders", set(), True),
    "order_products": ("order_products", set(), False),
    "products": ("products", {"variants"}, False),
    "inventory": ("inventory_items", set(), False),
}
# Which audit-frame kinds (`checks/frame.py`) accept each JSON type of the catalogue. A string
# may be read as a decimal (v2 money: "336.3200") or as a date. A number is read as a number,
# except the counts and ids in WHOLE_NUMBERS.
ACCEPTS = {
    "integer": {"integer"},
    "number": {"number"},
    "string": {"string", "number", "datetime"},
    "boolean": {"boolean"},
    "object": {"any"},
    "array": {"any"},
    "any": {"any"},
}
# Columns nullable although the catalogue does not say so, each for a reason the real API
# gives: a wider contract cannot reject a real record.
WIDER_NULLS = {
    # "" until something ships, which the audit frame reads as no date
    ("orders", "date_shipped"),
    # null on orders without an online payment in real responses
    ("orders", "payment_provider_id"),
    # null for a product with several variants, and without an option set, in real responses
    ("products", "base_variant_id"),
    ("products", "option_set_id"),
}
# Fields the reference types `number` that BigCommerce only ever fills with whole numbers
# (ids, unit counts, a tax class). The contract reads them as integers: the audit frame reads a
# float column from a JSON number *or a decimal string*, so as `float` a customer id sent as
# text ("12") would pass unseen; as `int` it is a type finding, and so would a fraction be.
WHOLE_NUMBERS = {
    ("orders", "customer_id"), ("orders", "items_total"), ("orders", "items_shipped"),
    ("orders", "shipping_address_count"), ("order_products", "quantity_shipped"),
    ("order_products", "quantity_refunded"), ("order_products", "return_id"),
    ("products", "tax_class_id"),
}
TABLES = list(ENDPOINTS)


def accepted(spec: dict) -> set[str]:
    """Kinds that accept every value `spec` allows; a oneOf of strings and numbers (money
    either way) is a decimal, anything else only a nested (object) column takes whole."""
    if "oneOf" in spec:
        types = {alternative.get("type") for alternative in spec["oneOf"]}
        return {"any", "number"} if types <= {"string", "number"} else {"any"}
    return ACCEPTS[spec["type"]]


def declared(table: str) -> dict[str, dict]:
    """The fields a response carries: the default ones and those `include=` asked for. An
    included field the catalogue describes as an endpoint of its own (a product's `variants`)
    is an array of that endpoint's records."""
    endpoint, includes, _ = ENDPOINTS[table]
    reference = CATALOGUE[endpoint]
    only_with = reference["only_with_include"]
    fields = {name: spec for name, spec in reference["fields"].items() if name not in only_with}
    for name, include in only_with.items():
        if include in includes:
            fields[name] = reference["fields"].get(name) or {
                "type": "array", "items": {"properties": CATALOGUE[name]["fields"]}}
    return fields


def checks_of(contract: Contract, name: str) -> dict[str, dict]:
    column = contract.schema.columns[name]
    return {check.name: check.statistics for check in column.checks}


@pytest.mark.parametrize("table", TABLES)
def test_the_contract_names_every_declared_field_and_nothing_else(table):
    contract = contract_for("bigcommerce", table)
    names = set(contract.schema.columns) - set(contract.lift)
    fields = set(declared(table))
    assert sorted(fields - names) == [], f"{table}: fields of the reference the contract lacks"
    assert sorted(names - fields) == [], f"{table}: columns the reference does not declare"
    for lifted, path in contract.lift.items():
        top = path.split(".")[0]
        assert top in fields, f"{table}.{lifted} is lifted from {path}, not a declared field"


def test_the_orders_contract_has_the_seventy_default_fields():
    """72 in the reference, less `fees` and `consignments` (only with `include=`)."""
    assert len(contract_for("bigcommerce", "orders").columns) == 70


@pytest.mark.parametrize("table", TABLES)
def test_each_column_accepts_the_declared_json_type(table):
    contract = contract_for("bigcommerce", table)
    reading = {column.name: frame.column_kind(column) for column in contract.columns}
    wrong = {}
    for name, spec in declared(table).items():
        column_kind = reading[name]
        if (table, name) in WHOLE_NUMBERS:
            assert spec.get("type") == "number" and column_kind == "integer", (table, name)
        elif column_kind not in accepted(spec):
            wrong[name] = (column_kind, spec.get("type", "oneOf"))
        if spec.get("format") == "date-time":
            assert column_kind in {"datetime", "string"}, f"{table}.{name} is a date-time"
    assert wrong == {}


def json_types(spec: dict) -> set[str]:
    return {alternative.get("type") for alternative in spec["oneOf"]} if "oneOf" in spec \
        else {spec.get("type")}


@pytest.mark.parametrize("table", TABLES)
def test_each_float_column_takes_exactly_the_json_type_the_reference_declares(table):
    """A v2 amount is a decimal string, a v3 price a JSON number: the other one is a `dtype`
    finding (a price sent as text must not pass unseen), unless the reference allows both."""
    contract = contract_for("bigcommerce", table)
    declared_types = declared(table)
    expected = {"string": "string", "number": "number"}
    for column in contract.columns:
        if frame.column_kind(column) != "number":
            continue
        types = json_types(declared_types[column.name])
        want = expected.get(next(iter(types))) if len(types) == 1 else "either"
        assert column.numbers_as == want, (table, column.name, types)


@pytest.mark.parametrize("table", TABLES)
def test_nullable_exactly_where_the_reference_says(table):
    contract = contract_for("bigcommerce", table)
    for name, spec in declared(table).items():
        nullable = contract.schema.columns[name].nullable
        if spec.get("nullable"):
            assert nullable, f"{table}.{name} is nullable in the reference"
        else:
            assert not nullable or (table, name) in WIDER_NULLS, \
                f"{table}.{name} is nullable in the contract only"


@pytest.mark.parametrize("table", TABLES)
def test_enums_max_lengths_and_bounds_are_rules(table):
    """A top-level enum is an `isin` within it; a maxLength a `str_length` within it; a
    numeric minimum or maximum a bound at least as tight."""
    contract = contract_for("bigcommerce", table)
    for name, spec in declared(table).items():
        if spec.get("type") in {"array", "object"}:
            continue  # bounds on a nested value are not the column's (categories' "maximum")
        checks = checks_of(contract, name)
        where = f"{table}.{name}"
        if "enum" in spec:
            assert "isin" in checks, f"{where} has an enum"
            assert set(checks["isin"]["allowed_values"]) <= set(spec["enum"]), where
        if "maxLength" in spec:
            assert checks["str_length"]["max_value"] <= spec["maxLength"], where
        if "minimum" in spec:
            low = checks.get("greater_than_or_equal_to", checks.get("greater_than"))
            assert low is not None and low["min_value"] >= spec["minimum"], where
        if "maximum" in spec:
            high = checks.get("less_than_or_equal_to")
            assert high is not None and high["max_value"] <= spec["maximum"], where


@pytest.mark.parametrize("table", TABLES)
def test_strict_as_before(table):
    """Customers and orders hold personal data, so an unknown field is held back; the others
    describe goods and app settings, so it is recorded without blocking."""
    assert contract_for("bigcommerce", table).strict is ENDPOINTS[table][2]


@pytest.mark.parametrize(("table", "column", "pii"), [
    ("orders", "ip_address_v6", "ip"),
    ("orders", "geoip_country", "ip"),
    ("orders", "geoip_country_iso2", "ip"),
    ("orders", "customer_locale", "address"),
    ("orders", "staff_notes", "free_text"),
    ("orders", "customer_message", "free_text"),
    ("order_products", "wrapping_message", "free_text"),
    ("order_products", "configurable_fields", "free_text"),
    ("customers", "notes", "free_text"),
    ("customers", "form_fields", "free_text"),
    ("customer_metafields", "value", "free_text"),
])
def test_personal_fields_of_the_reference_are_classified(table, column, pii):
    assert contract_for("bigcommerce", table).pii_columns.get(column) == pii


def test_the_contracts_never_import_the_sandbox():
    """The sandbox answers to the contracts' reference, never the other way round."""
    folder = Path(__file__).resolve().parents[2] / "contracts"
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(m.split(".")[0] == "sandbox" for m in modules), path


def test_an_order_in_the_store_currency_converts_at_one():
    """A KRW order whose store-to-transactional rate is not 1 would count the wrong number of
    won; the rule names it. A USD order's rate is anything positive."""
    import pandera.errors

    from checks.frame import frame_from_records
    from sandbox.bigcommerce.data import Dataset, DatasetSize

    data = Dataset.generate(3, DatasetSize.scaled(30), datetime.now(UTC))
    contract = contract_for("bigcommerce", "orders")
    krw = next(o for o in data.orders if o["default_currency_code"] == "KRW")
    usd = next(o for o in data.orders if o["default_currency_code"] == "USD")
    wrong = {**krw, "id": 1, "store_default_to_transactional_exchange_rate": "0.0007407407"}
    frame = frame_from_records(enumerate([krw, usd, wrong]), contract)
    with pytest.raises(pandera.errors.SchemaErrors) as raised:
        contract.model.validate(frame.data, lazy=True)
    failures = raised.value.failure_cases
    assert set(failures["check"]) == {"same_currency_rate_is_one"}
    assert set(failures["index"]) == {2}  # the wrong order, and only it
