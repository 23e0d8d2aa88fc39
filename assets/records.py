"""Structural parsing of extracted records: what every batch must satisfy before any contract.

A record is publishable when it is a JSON object with an integer primary key and, where the
source has one, a parseable modification time. Anything else is quarantined with the rule
it broke and kept whole for the quarantine zone: a bad record is never dropped silently and never
crashes the run. Contract rules (types, formats, ranges) are the audits' job, not this one's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from math import isfinite
from typing import Any

import orjson

from contracts.formats import TimeFormat, parse_time


@dataclass(frozen=True)
class RecordShape:
    """Where a stream's key and modification time sit in each record (dotted paths)."""

    primary_key: str
    modified_field: str | None = None
    modified_format: TimeFormat | None = None


@dataclass(frozen=True)
class Parsed:
    pk: int
    modified_at: datetime | None
    json: str


@dataclass(frozen=True)
class Quarantined:
    rule: str
    column: str | None
    reason: str
    raw: str
    pk: int | None = None


# Dates and times go to `_encode` as they did with the standard library (str of the value),
# and dataclasses to str too, rather than orjson's own renderings of them.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def to_json(value: Any) -> str:
    """Lossless JSON text: Decimals stay exact strings, times keep their offsets.

    Every extracted record is rendered once, so this is orjson (under half the standard
    library's time on an order: docs/benchmarks.md, "Scale"). The standard library renders
    what orjson would change or refuse: NaN and infinities (orjson writes null), float
    subclasses (orjson would call `_encode`), integers beyond 64 bits, keys that are not
    strings, unpaired surrogates. A float reads back equal
    either way; only a small exponent is spelt differently (`1e-7`, not `1e-07`).
    """
    if not _orjson_would_differ(value):
        try:
            return orjson.dumps(value, default=_encode, option=_ORJSON_OPTIONS).decode()
        except TypeError:
            pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_encode)


def _orjson_would_differ(value: Any) -> bool:
    """A non-finite float or a float subclass (numpy's) anywhere in `value`."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _SCALARS:
            continue
        if kind is dict or (kind is not list and isinstance(item, dict)):
            stack.extend(item.values())
        elif kind is list or isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, float) and (kind is not float or not isfinite(item)):
            return True
    return False


# What a record mostly holds, checked first: the walk runs over every value of every record.
_SCALARS = frozenset({str, int, bool, type(None)})


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _lookup(record: dict[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def parse_record(record: Any, shape: RecordShape) -> Parsed | Quarantined:
    """Check one record's structure; never raises."""
    raw = to_json(record)
    if not isinstance(record, dict):
        return Quarantined(
            "record_is_object", None, f"expected a JSON object, got {_kind(record)}", raw
        )
    found, pk = _lookup(record, shape.primary_key)
    if not found or pk is None:
        reason = f"primary key {shape.primary_key!r} is missing"
        return Quarantined("primary_key_present", shape.primary_key, reason, raw)
    if not isinstance(pk, int) or isinstance(pk, bool):
        reason = f"primary key {shape.primary_key!r} is not an integer: {pk!r}"[:300]
        return Quarantined("primary_key_integer", shape.primary_key, reason, raw)
    modified_at = None
    if shape.modified_field is not None and shape.modified_format is not None:
        found, value = _lookup(record, shape.modified_field)
        if not found or value is None:
            reason = f"modification time {shape.modified_field!r} is missing"
            return Quarantined("modified_at_present", shape.modified_field, reason, raw, pk)
        try:
            modified_at = parse_time(value, shape.modified_format)
        except ValueError as error:
            reason = f"{shape.modified_field}: {error}"[:300]
            return Quarantined("modified_at_parseable", shape.modified_field, reason, raw, pk)
    return Parsed(pk, modified_at, raw)


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )
