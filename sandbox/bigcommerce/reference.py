"""BigCommerce's published reference as a judge: field specs, query parameters, a validator.

The catalogue (`reference/bigcommerce-reference.json`, provenance in the README beside it) is
loaded once. `validate` checks one served record against an endpoint's field specs and returns
readable deviations instead of raising, so a test can report every one of them at once:

- every declared field is present (fields under `only_with_include` only when that include was
  asked for), and no undeclared field is served;
- each value has the declared JSON type (`integer` is an int that is no bool, `number` an int or
  a float, `oneOf` any one branch, `any` anything), `nullable: true` allows null, `enum`,
  `maxLength`, `minimum` / `maximum` and the `date-time` / `date` formats hold;
- nested objects and arrays are checked to the depth the catalogue gives.
- an order's consignment `line_items`, which the catalogue leaves bare, are checked as whole
  order products or as references, per the include (`CONSIGNMENT_KINDS`, below).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).with_name("reference") / "bigcommerce-reference.json"
# Includes whose field the catalogue names without a shape: a product's `include=variants`
# embeds the records of the variants endpoint, as BigCommerce's reference describes.
EMBEDDED = {("products", "variants"): "variants"}
# Where the catalogue stops at a bare object: each consignment's `line_items`. BigCommerce's
# orders.v2.oas2.yml (github.com/bigcommerce/docs, commit 24f580ca, `pickupConsignment_Get`,
# `shippingConsignment_Get`, `giftCertificateConsignment_Get` and the downloads' schema) gives
# it as oneOf an array of `products_Resource` (`url`, `resource`) and an array of
# `orderProducts`, the records of `/orders/{id}/products`; `include=consignments.line_items`
# asks for the second ("include the response returned from the request to the
# /orders/{order_id}/products endpoint in consignments").
CONSIGNMENT_KINDS = (("pickups",), ("shipping",), ("downloads",), ("email", "gift_certificates"))
LINE_REFERENCE = {"type": "object", "properties": {"url": {"type": "string"},
                                                   "resource": {"type": "string"}}}
_MISSING = object()


@dataclass(frozen=True)
class Deviation:
    """One way a record differs from the reference: where, which rule, and the value seen."""

    path: str
    rule: str
    value: Any = None

    def __str__(self) -> str:
        shown = json.dumps(self.value, ensure_ascii=False, default=str)
        return f"{self.path}: {self.rule} (value {shown[:80]})"


@functools.cache
def catalogue() -> dict[str, dict]:
    """The whole catalogue, endpoint name -> entry; read from disk once per process."""
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def endpoint(name: str) -> dict:
    try:
        return catalogue()[name]
    except KeyError:
        raise KeyError(f"the reference has no endpoint {name!r}; it has "
                       f"{sorted(catalogue())}") from None


@functools.cache
def query_parameters(name: str) -> frozenset[str]:
    """The query parameter names the reference declares for an endpoint (not headers/paths)."""
    return frozenset(p["name"] for p in endpoint(name)["query_parameters"] if p["in"] == "query")


def query_parameter(name: str, parameter: str) -> dict:
    """One query parameter's spec (its `enum`, `type`, ...)."""
    for spec in endpoint(name)["query_parameters"]:
        if spec["in"] == "query" and spec["name"] == parameter:
            return spec
    raise KeyError(f"the reference declares no query parameter {parameter!r} for {name!r}")


def field_specs(name: str, includes: frozenset[str] | set[str] = frozenset()) -> dict[str, dict]:
    """The fields a response carries for these `include=` values, each with its spec."""
    entry = endpoint(name)
    only_with = entry["only_with_include"]
    wanted = (None, *includes)
    specs = {f: s for f, s in entry["fields"].items() if only_with.get(f) in wanted}
    for field, include in only_with.items():
        if include in includes and field not in specs:
            specs[field] = _embedded_spec(name, field)
    return specs


def _embedded_spec(name: str, field: str) -> dict:
    other = EMBEDDED.get((name, field))
    if other is None:
        return {"type": "any"}
    return {"type": "array",
            "items": {"type": "object", "properties": endpoint(other)["fields"]}}


def validate(name: str, record: Any,
             includes: frozenset[str] | set[str] = frozenset()) -> list[Deviation]:
    """Every deviation of one record of endpoint `name` from the reference ([] when none)."""
    spec = {"type": "object", "properties": field_specs(name, includes)}
    found = _check(spec, record, name)
    if name == "orders" and isinstance(record, dict) and isinstance(
            record.get("consignments"), dict):
        found += _consigned_lines(record["consignments"], includes)
    return found


def _consignments(value: dict) -> list[tuple[str, Any]]:
    """(path, consignment) of every consignment in an order's `consignments` object."""
    found = []
    for kind in CONSIGNMENT_KINDS:
        listed: Any = value
        for step in kind:
            listed = listed.get(step) if isinstance(listed, dict) else None
        for i, consignment in enumerate(listed if isinstance(listed, list) else ()):
            found.append((f"orders.consignments.{'.'.join(kind)}[{i}]", consignment))
    return found


def _consigned_lines(value: dict, includes: frozenset[str] | set[str]) -> list[Deviation]:
    """Each consignment's `line_items`: whole order products with `consignments.line_items`,
    references to them without."""
    item = ({"type": "object", "properties": endpoint("order_products")["fields"]}
            if "consignments.line_items" in includes else LINE_REFERENCE)
    found = []
    for path, consignment in _consignments(value):
        lines = consignment.get("line_items", _MISSING) if isinstance(consignment, dict) else None
        if lines is _MISSING:
            found.append(Deviation(f"{path}.line_items", "declared field missing"))
        else:
            found += _check({"type": "array", "items": item}, lines, f"{path}.line_items")
    return found


def _check(spec: dict, value: Any, path: str) -> list[Deviation]:
    if value is None:
        return [] if spec.get("nullable") or spec.get("type") == "any" else [
            Deviation(path, "null where the reference does not allow null", value)]
    if "oneOf" in spec:
        if any(not _check(branch, value, path) for branch in spec["oneOf"]):
            return []
        kinds = [b.get("type", "?") for b in spec["oneOf"]]
        return [Deviation(path, f"matches none of the oneOf branches {kinds}", value)]
    kind = spec.get("type", "any")
    if not _TYPE_TESTS.get(kind, _anything)(value):
        return [Deviation(path, f"expected JSON type {kind}, got {_json_type(value)}", value)]
    found = _constraints(spec, value, path)
    if kind == "object" and "properties" in spec:
        found += _check_object(spec["properties"], value, path)
    elif kind == "array" and "items" in spec:
        for i, item in enumerate(value):
            found += _check(spec["items"], item, f"{path}[{i}]")
    return found


def _check_object(properties: dict[str, dict], value: dict, path: str) -> list[Deviation]:
    found = []
    for field, sub in properties.items():
        item = value.get(field, _MISSING)
        if item is _MISSING:
            found.append(Deviation(f"{path}.{field}", "declared field missing"))
        else:
            found += _check(sub, item, f"{path}.{field}")
    found += [Deviation(f"{path}.{field}", "field the reference does not declare", value[field])
              for field in value if field not in properties]
    return found


def _constraints(spec: dict, value: Any, path: str) -> list[Deviation]:
    found = []
    if "enum" in spec and value not in spec["enum"]:
        found.append(Deviation(path, f"not one of the enum {spec['enum']}", value))
    if isinstance(value, str):
        if "maxLength" in spec and len(value) > spec["maxLength"]:
            found.append(Deviation(path, f"longer than maxLength {spec['maxLength']}", value))
        if spec.get("format") in _FORMATS and not _FORMATS[spec["format"]](value):
            found.append(Deviation(path, f"not a {spec['format']} string", value))
    elif _is_number(value):
        if "minimum" in spec and value < spec["minimum"]:
            found.append(Deviation(path, f"below minimum {spec['minimum']}", value))
        if "maximum" in spec and value > spec["maximum"]:
            found.append(Deviation(path, f"above maximum {spec['maximum']}", value))
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _anything(value: Any) -> bool:
    return True


def _parses(parse: Any) -> Any:
    def test(text: str) -> bool:
        try:
            parse(text)
        except ValueError:
            return False
        return True

    return test


_TYPE_TESTS = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": _is_number,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "any": _anything,
}
_FORMATS = {"date-time": _parses(datetime.fromisoformat), "date": _parses(date.fromisoformat)}


def _json_type(value: Any) -> str:
    for kind in ("boolean", "integer", "number", "string", "object", "array"):
        if _TYPE_TESTS[kind](value):
            return kind
    return type(value).__name__
