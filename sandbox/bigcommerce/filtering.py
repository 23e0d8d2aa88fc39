"""Filters from the query parameters the reference declares, read by their names.

Most of BigCommerce's filter parameters say what they do in their name: `<field>` (equal),
`<field>:in`, `:not_in`, `:min`, `:max`, `:greater`, `:less`, `:like`, `:not` on v3, and
`min_<field>` / `max_<field>` on v2. `reference_filters` turns every such parameter of a request
into a `Table` filter (hashable, so the selection is cached) or, for fields the table does not
index as numbers (`date_last_imported`), a predicate over the record; values are parsed by the
field's declared JSON type. The parameters whose meaning is not in their name (paging, sorting,
`include`, `keyword`, ...) are each endpoint's own and listed in its `handled` set.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection
from typing import Any

from sandbox.bigcommerce import reference
from sandbox.bigcommerce.formats import record_epoch
from sandbox.bigcommerce.listing import DATE_FIELDS, Filter
from sandbox.bigcommerce.query import Query

Predicate = Callable[[dict], bool]
V3_OPERATORS = {"in": "in", "not_in": "not_in", "min": "min", "max": "max",
                "greater": "greater", "less": "less", "like": "like", "not": "ne"}
# Fields a record carries inside a nested object that the table indexes (see Table(nested=)).
NESTED = {"inventory_items": "identity"}
_DATE_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "min": operator.ge, "max": operator.le, "greater": operator.gt, "less": operator.lt,
    "ne": operator.ne, "between": lambda value, bounds: bounds[0] <= value <= bounds[1]}
# Paging, sorting and shaping: never filters.
CONTROL = frozenset({"page", "limit", "sort", "direction", "include", "include_fields",
                     "exclude_fields", "after", "before"})


def split(name: str, v2: bool) -> tuple[str, str]:
    """(field, operator) of a filter parameter's name."""
    if v2:
        for prefix in ("min_", "max_"):
            if name.startswith(prefix):
                return name[len(prefix):], prefix[:-1]
        return name, "eq"
    field, _, suffix = name.partition(":")
    return field, V3_OPERATORS.get(suffix, "?") if suffix else "eq"


def field_types(endpoint: str) -> dict[str, str]:
    """Each filterable field's declared JSON type (nested identity fields included)."""
    specs = reference.endpoint(endpoint)["fields"]
    nested = NESTED.get(endpoint)
    if nested:
        specs = {**specs, **specs[nested]["properties"]}
    return {name: spec.get("type", "any") for name, spec in specs.items()}


def _readable(field: str, op: str, types: dict[str, str]) -> bool:
    return op != "?" and types.get(field) in ("integer", "number", "string", "boolean")


def reference_filters(q: Query, handled: Collection[str] = ()
                      ) -> tuple[tuple[Filter, ...], list[Predicate]]:
    """The filters and predicates of every filter parameter the request carries."""
    types, found, predicates = field_types(q.endpoint), [], []
    for name in q.params:
        if name in CONTROL or name in handled:
            continue
        field, op = split(name, q.v2)
        if not _readable(field, op, types):
            # A declared parameter no handler reads: the contract test names it.
            raise q.invalid(name, "the sandbox cannot read this parameter")
        if field in DATE_FIELDS or (types[field] == "string" and "date" in field):
            found_filter = _date_filter(q, name, field, op)
            if field in DATE_FIELDS:
                found.append(found_filter)
            else:  # a date kept as text ("" when never set): compared as a date, when set
                predicates.append(_text_date(*found_filter))
            continue
        found.append((field, op, _value(q, name, op, types[field])))
    return tuple(found), predicates


def _date_filter(q: Query, name: str, field: str, op: str) -> Filter:
    if op == "eq":
        return field, "between", q.instant_or_day(name)
    if op in ("min", "max", "greater", "less", "ne"):
        return field, op, q.date(name)
    raise q.invalid(name, "a date filter takes :min, :max, :greater, :less or :not")


def _text_date(field: str, op: str, value: Any) -> Predicate:
    test = _DATE_TESTS[op]
    return lambda record: bool(record.get(field)) and test(record_epoch(record[field]), value)


def _value(q: Query, name: str, op: str, kind: str) -> Any:
    if op in ("in", "not_in"):
        if kind == "integer":
            return q.integers(name)
        return q.numbers(name) if kind == "number" else q.strings(name)
    if op == "like":
        return frozenset(s.lower() for s in q.strings(name) or ())
    if kind == "integer":
        return q.integer(name, minimum=0)
    if kind == "number":
        return q.number(name)
    if kind == "boolean":
        return q.boolean(name)
    return q.params[name]
