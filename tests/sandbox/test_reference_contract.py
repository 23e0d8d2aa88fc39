"""The sandbox answers to BigCommerce's published reference, not to our own summary of it.

Every endpoint is paged through (several pages, without and with each `include=`), and every
record is validated against the field catalogue in `sandbox/bigcommerce/reference/`: every
declared field present with its declared JSON type, enum, nullability, to the depth the
catalogue gives, and every declared field seen somewhere. The validator itself is shown to catch
a dropped or retyped field (through the fault plan, as a broken source would serve it), and the
sandbox accepts exactly the reference's query parameters.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sandbox.bigcommerce import DatasetSize, running_sandbox
from sandbox.bigcommerce import reference as ref
from sandbox.bigcommerce.filtering import field_types, split
from sandbox.bigcommerce.query import encode_cursor
from tests.sandbox.sandbox_http import config, faulty, get, get_json, v2_pages, v3_pages

SIZE = DatasetSize.scaled(120)  # 12 products, 240 orders: several pages of every list
V3 = {"customers": "/v3/customers", "customer_metafields": "/v3/customers/metafields",
      "products": "/v3/catalog/products", "variants": "/v3/catalog/variants",
      "inventory_items": "/v3/inventory/items"}
# Lists the store never fills, so their items are never seen (each is a real store's default).
NEVER_FILLED = {
    "customers": {"customers.addresses[].form_fields[]"},
    "orders": {"orders.billing_address.form_fields[]"},
    "order_products": {"order_products.configurable_fields[]",
                       "order_products.configurable_fields[].name",
                       "order_products.configurable_fields[].value"},
    "products": {"products.gift_wrapping_options_list[]", "products.meta_keywords[]",
                 "products.parent_relations[]", "products.parent_relations[].attribute_id",
                 "products.parent_relations[].product_id", "products.parent_relations[].type",
                 "products.modifiers[].option_values[]"},
}


def declared_paths(spec: dict, path: str) -> set[str]:
    """Every path the catalogue declares under `spec` (a oneOf counts as one leaf)."""
    found = {path}
    if "oneOf" in spec:
        return found
    for name, sub in (spec.get("properties") or {}).items():
        found |= declared_paths(sub, f"{path}.{name}")
    if "items" in spec:
        found |= declared_paths(spec["items"], f"{path}[]")
    return found


def seen_paths(value, path: str, into: set[str]) -> None:
    into.add(path)
    if isinstance(value, dict):
        for name, sub in value.items():
            seen_paths(sub, f"{path}.{name}", into)
    elif isinstance(value, list):
        for item in value:
            seen_paths(item, f"{path}[]", into)


class Audit:
    """Validates records of one endpoint and remembers which declared paths were seen."""

    def __init__(self) -> None:
        self.deviations: list[str] = []
        self.seen: dict[str, set[str]] = {}
        self.declared: dict[str, set[str]] = {}
        self.records: Counter[str] = Counter()

    def check(self, endpoint: str, records: list[dict], includes: set[str]) -> None:
        spec = {"type": "object", "properties": ref.field_specs(endpoint, includes)}
        self.declared.setdefault(endpoint, set()).update(declared_paths(spec, endpoint))
        seen = self.seen.setdefault(endpoint, set())
        for record in records:
            self.records[endpoint] += 1
            self.deviations += [f"{sorted(includes)} {d}" for d in
                                ref.validate(endpoint, record, includes)]
            seen_paths(record, endpoint, seen)


@pytest.fixture(scope="module")
def audit() -> Audit:
    """One pass over every endpoint, with and without each include the reference names."""
    result = Audit()
    with running_sandbox(config(SIZE)) as sandbox:
        for endpoint, path in V3.items():
            includes = _include_values(endpoint)
            for chosen in [set(), *({i} for i in includes), set(includes)]:
                query = f"{path}?include={','.join(sorted(chosen))}" if chosen else path
                for page in v3_pages(sandbox, query, limit=25, most=4):
                    result.check(endpoint, page, chosen)
        for chosen in [set(), {"fees"}, {"consignments"},
                       {"fees", "consignments", "consignments.line_items"}]:
            query = f"/v2/orders?include={','.join(sorted(chosen))}" if chosen else "/v2/orders"
            for page in v2_pages(sandbox, query, limit=50):
                result.check("orders", page, chosen)
        for order in sandbox.dataset.orders:
            for page in v2_pages(sandbox, f"/v2/orders/{order['id']}/products", limit=2):
                result.check("order_products", page, set())
    return result


def _include_values(endpoint: str) -> list[str]:
    names = ref.query_parameters(endpoint)
    return ref.query_parameter(endpoint, "include")["enum"] if "include" in names else []


def test_every_record_of_every_endpoint_matches_the_reference(audit):
    """Zero deviations over every page read, with and without includes."""
    assert audit.records["orders"] == 4 * 240 and audit.records["order_products"] > 240
    assert min(audit.records.values()) >= 30
    assert audit.deviations == [], "\n".join(audit.deviations[:40])


def test_every_declared_field_is_served_somewhere(audit):
    """Each field the catalogue declares (nested ones too) appeared in some record; only lists
    this store never fills are allowed to show no items."""
    for endpoint in ref.catalogue():
        unseen = audit.declared[endpoint] - audit.seen[endpoint]
        assert unseen == NEVER_FILLED.get(endpoint, set()), endpoint
    orders = ref.field_specs("orders", {"fees", "consignments"})
    assert len(orders) == 72 and len(ref.field_specs("order_products")) == 57
    assert len(ref.field_specs("products")) == 68 and len(ref.field_specs("customers")) == 18


def test_validator_reports_dropped_and_retyped_fields():
    """A broken source (drop_column / retype_column in the fault plan) shows up as deviations
    naming the field and the rule, and only those."""
    plan = faulty(SIZE, {"kind": "drop_column", "endpoint": "orders", "column": "customer_locale"},
                  {"kind": "retype_column", "endpoint": "orders", "column": "currency_id",
                   "to": "string"},
                  {"kind": "retype_column", "endpoint": "customers", "column": "authentication",
                   "to": "string"},
                  {"kind": "retype_column", "endpoint": "customers",
                   "column": "customer_group_id", "to": "boolean"},
                  {"kind": "retype_column", "endpoint": "order_products", "column": "quantity",
                   "to": "number"},
                  {"kind": "drop_column", "endpoint": "products", "column": "sku",
                   "fraction": 0.5})
    with running_sandbox(plan) as sandbox:
        orders = get_json(sandbox, "/v2/orders?limit=20")
        customers = get_json(sandbox, "/v3/customers?limit=20")["data"]
        lines = get_json(sandbox, f"/v2/orders/{orders[0]['id']}/products")
        products = get_json(sandbox, "/v3/catalog/products?limit=12")["data"]

    def rules(endpoint: str, records: list[dict]) -> Counter[tuple[str, str]]:
        return Counter((d.path, d.rule) for r in records for d in ref.validate(endpoint, r))

    assert rules("orders", orders) == {
        ("orders.customer_locale", "declared field missing"): 20,
        ("orders.currency_id", "expected JSON type integer, got string"): 20}
    assert rules("customers", customers) == {
        ("customers.authentication", "expected JSON type object, got string"): 20,
        ("customers.customer_group_id", "expected JSON type integer, got boolean"): 20}
    assert rules("order_products", lines) == {
        ("order_products.quantity", "expected JSON type integer, got number"): len(lines)}
    dropped = rules("products", products)
    assert set(dropped) == {("products.sku", "declared field missing")}
    assert 0 < dropped[("products.sku", "declared field missing")] < 12


def test_validator_holds_consignment_lines_to_the_order_products_reference(sandbox_orders):
    """With `consignments.line_items` each consignment embeds whole order products (the
    reference's `orderProducts`); a line cut to a few keys, as this sandbox once served them,
    or a reference where a record was asked for, is a deviation naming the line and the field."""
    chosen = {"consignments", "consignments.line_items"}
    (order,) = sandbox_orders("include=consignments.line_items&limit=1")
    assert ref.validate("orders", order, chosen) == []
    line = order["consignments"]["shipping"][0]["line_items"][0]
    keys = ("id", "product_id", "variant_id", "name", "sku", "quantity", "order_address_id")
    cut = {key: line[key] for key in keys}
    shipping = {**order["consignments"]["shipping"][0], "line_items": [cut]}
    broken = {**order, "consignments": {**order["consignments"], "shipping": [shipping]}}
    found = {(d.path, d.rule) for d in ref.validate("orders", broken, chosen)}
    assert ("orders.consignments.shipping[0].line_items[0].base_price",
            "declared field missing") in found
    assert all(path.startswith("orders.consignments.shipping[0].line_items[0].")
               for path, _ in found)
    (named,) = sandbox_orders("include=consignments&limit=1")
    assert ref.validate("orders", named, {"consignments"}) == []
    assert ref.validate("orders", named, chosen)  # references where records were asked for


@pytest.fixture(scope="module")
def sandbox_orders():
    with running_sandbox(config(SIZE)) as sandbox:
        yield lambda query: get_json(sandbox, f"/v2/orders?{query}")


def test_validator_checks_nested_fields_enums_and_null():
    """Nested properties, array items, enums and nullability are judged, not just the top."""
    order = get_order()
    assert ref.validate("orders", order) == []
    broken = {**order, "payment_status": "paid later", "external_id": None,
              "billing_address": {**order["billing_address"], "zip": 6236},
              "is_deleted": None}
    found = {(d.path, d.rule.split(" ")[0]) for d in ref.validate("orders", broken)}
    assert found == {("orders.payment_status", "not"), ("orders.billing_address.zip", "expected"),
                     ("orders.is_deleted", "null")}
    extra = {**order, "brand_new_field": 1}
    assert [d.rule for d in ref.validate("orders", extra)] == [
        "field the reference does not declare"]


def get_order() -> dict:
    from sandbox.bigcommerce import Dataset
    from tests.sandbox.sandbox_http import ANCHOR

    return Dataset.generate(1, DatasetSize.scaled(20), ANCHOR).orders[0]


# ---- query parameters ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(config(DatasetSize.scaled(40))) as handle:
        yield handle


@pytest.mark.parametrize(("path", "name"), [
    ("/v3/customers", "colour"), ("/v3/customers/metafields", "id:in"),
    ("/v3/customers/metafields", "resource_id:in"), ("/v3/catalog/products", "sku:like"),
    ("/v3/catalog/variants", "sku:in"), ("/v3/inventory/items", "location:in"),
    ("/v3/customers/3/metafields", "colour")])
def test_an_unknown_query_parameter_is_refused_the_v3_way(sandbox, path, name):
    status, headers, body = get(sandbox, f"{path}?{name}=1")
    error = json.loads(body)
    assert status == 422 and set(error) == {"status", "title", "type", "errors"}
    assert error["status"] == 422 and name in error["title"] and name in error["errors"]
    assert "X-Rate-Limit-Requests-Left" in headers


def test_an_unknown_query_parameter_is_refused_the_v2_way(sandbox):
    status, _, body = get(sandbox, "/v2/orders?min_date=2025-01-01&limit=5")
    error = json.loads(body)
    assert status == 400 and isinstance(error, list) and set(error[0]) == {"status", "message"}
    assert error[0]["status"] == 400 and "min_date" in error[0]["message"]


def test_a_value_outside_the_declared_enum_is_refused(sandbox):
    status, _, body = get(sandbox, "/v3/catalog/products?include=reviews,variants,colours")
    assert status == 422 and "include" in json.loads(body)["errors"]
    assert get(sandbox, "/v3/customers?sort=id:asc")[0] == 422  # not in the customers' enum
    assert get(sandbox, "/v2/orders?sort=total:desc")[0] == 400


FIELD_SAMPLES = {"products": "name", "variants": "sku", "customer_metafields": "key"}


def _sample(endpoint: str, spec: dict) -> str:
    """A valid value for one declared query parameter."""
    name = spec["name"]
    if name in ("after", "before"):
        return encode_cursor(1)
    if "enum" in spec:
        return str(spec["enum"][0])
    if name in ("include_fields", "exclude_fields"):
        return FIELD_SAMPLES[endpoint]
    if "date" in name:
        return "2025-01-01"
    kind = spec["type"]
    if kind == "array":
        kind = field_types(endpoint).get(split(name, endpoint == "orders")[0], "integer")
        kind = "integer" if kind == "array" else kind  # categories:in: ids in a list field
    return {"integer": "1", "number": "1", "boolean": "true"}.get(kind, "x")


@pytest.mark.parametrize("endpoint", sorted(ref.catalogue()))
def test_every_declared_query_parameter_is_accepted(sandbox, endpoint):
    """Each parameter the reference declares for the endpoint answers 200 (204 on v2 when
    nothing matches), never 'unknown' or 'cannot read'."""
    path = {**V3, "orders": "/v2/orders", "order_products": "/v2/orders/100/products"}[endpoint]
    answers = {}
    for spec in ref.endpoint(endpoint)["query_parameters"]:
        if spec["in"] == "query":
            status, _, body = get(sandbox, f"{path}?{spec['name']}={_sample(endpoint, spec)}")
            answers[spec["name"]] = status if status in (200, 204) else (status, body[:200])
    assert answers and set(answers.values()) <= {200, 204}, answers


def test_errors_before_a_handler_take_the_shape_of_the_api_version(sandbox):
    """A wrong token on a v2 path answers v2's `[{status, message}]`, on v3 the v3 envelope."""
    status, _, body = get(sandbox, "/v2/orders", token="wrong")
    assert status == 401 and json.loads(body)[0]["status"] == 401
    status, _, body = get(sandbox, "/v3/customers", token="wrong")
    assert status == 401 and json.loads(body)["status"] == 401


def test_order_lines_refuse_an_unknown_query_parameter(sandbox):
    status, _, body = get(sandbox, "/v2/orders/100/products?include=everything")
    assert status == 400 and "include" in json.loads(body)[0]["message"]
