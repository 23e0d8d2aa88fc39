"""The built-in fault kinds. A new kind is one function here with a registering decorator.

Transport kinds return an action (or None to let the request through); record kinds alter the
shallow copy of a record they are given. See docs/sandbox-fault-plan.md for the user's view.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from sandbox.bigcommerce import reference
from sandbox.bigcommerce.faults import (
    FRACTION,
    STREAMS,
    Delay,
    Param,
    RecordContext,
    Reset,
    Respond,
    TransportDraw,
    Truncate,
    record_fault,
    record_key,
    transport_fault,
)

# ---- transport kinds: decided per request, drawing from the plan's seeded generator ----------


@transport_fault(
    "latency", min_ms=Param(float, minimum=0), max_ms=Param(float, minimum=0),
    check=lambda p, _: "min_ms must not exceed max_ms" if p["min_ms"] > p["max_ms"] else None,
)
def latency(params: Mapping[str, Any], draw: TransportDraw) -> Delay:
    return Delay(draw.rng.uniform(params["min_ms"], params["max_ms"]) / 1000)


@transport_fault("server_error", fraction=FRACTION)
def server_error(params: Mapping[str, Any], draw: TransportDraw) -> Respond | None:
    if draw.rng.random() >= params["fraction"]:
        return None
    status, title = draw.rng.choice(
        ((500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")))
    return Respond(status, title, rate_limit_headers=True, counter="server_errors")


@transport_fault(
    "burst_429", every=Param(int, minimum=2), length=Param(int, minimum=1),
    check=lambda p, _: "length must be smaller than every" if p["length"] >= p["every"] else None,
)
def burst_429(params: Mapping[str, Any], draw: TransportDraw) -> Respond | None:
    """Of every `every` matching requests, the last `length` get a header-less 429.

    Deterministic by request count (no random draw): platform-load 429s carry no rate-limit
    headers, which is how a client tells them from its own quota running out.
    """
    if draw.count % params["every"] < params["every"] - params["length"]:
        return None
    return Respond(429, "Too Many Requests", rate_limit_headers=False, counter="injected_429")


@transport_fault("connection_reset", fraction=FRACTION)
def connection_reset(params: Mapping[str, Any], draw: TransportDraw) -> Reset | None:
    return Reset() if draw.rng.random() < params["fraction"] else None


@transport_fault("truncated_body", fraction=FRACTION)
def truncated_body(params: Mapping[str, Any], draw: TransportDraw) -> Truncate | None:
    return Truncate() if draw.rng.random() < params["fraction"] else None


# ---- record kinds: the plan picks the records by a stable hash of (seed, kind, id) -----------

ORDER_TOTALS = ("subtotal_ex_tax", "subtotal_inc_tax", "total_ex_tax", "total_inc_tax")
RETYPE_TARGETS = ("string", "number", "integer", "boolean", "object", "array", "null")


def _set_email(record: dict, value: str | None) -> None:
    """Customers carry `email`; orders carry it in their billing address."""
    if "email" in record:
        record["email"] = value
    elif isinstance(record.get("billing_address"), dict):
        record["billing_address"] = {**record["billing_address"], "email": value}


def _email(record: dict) -> str | None:
    if "email" in record:
        return record["email"]
    return (record.get("billing_address") or {}).get("email")


@record_fault("null_email")
def null_email(record: dict, params: Mapping[str, Any], ctx: RecordContext) -> None:
    _set_email(record, None)


@record_fault("malformed_email")
def malformed_email(record: dict, params: Mapping[str, Any], ctx: RecordContext) -> None:
    """kim.minji@example.com becomes one of: kim.minji#example.com, kim.minji@@example.com,
    kim.minji@ or "kim.minji @example.com" (picked per record, deterministically)."""
    email = _email(record)
    if not email or "@" not in email:
        return
    local, domain = email.split("@", 1)
    forms = (f"{local}#{domain}", f"{local}@@{domain}", f"{local}@", f"{local} @{domain}")
    _set_email(record, forms[int(ctx.unit * len(forms))])


@record_fault("negative_total")
def negative_total(record: dict, params: Mapping[str, Any], ctx: RecordContext) -> None:
    """Order subtotals and totals turn negative (money strings keep their 4 decimals)."""
    for key in ORDER_TOTALS:
        value = record.get(key)
        if isinstance(value, str) and value and not value.startswith("-"):
            record[key] = f"-{value}"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            record[key] = -abs(value)


@record_fault(
    "duplicate_id", fraction=Param(float, minimum=0.0, maximum=0.5),
)
def duplicate_id(record: dict, params: Mapping[str, Any], ctx: RecordContext) -> None:
    """The record takes the id of a record served on another page of the same listing.

    The donor is the first record from `limit` positions on (wrapping around) that is on a
    different page and is not itself altered, so the donor's id really is served twice. A
    listing that fits on one page has no donor and is left alone.
    """
    n = len(ctx.records)
    for step in range(ctx.limit, ctx.limit + n):
        donor = ctx.records[(ctx.index + step) % n]
        if (ctx.index + step) % n // ctx.limit != ctx.index // ctx.limit and not ctx.chosen(donor):
            if "id" in record:
                record["id"] = record_key(donor)
            else:  # inventory items are known by their variant
                record["identity"] = {**record["identity"], "variant_id": record_key(donor)}
            return


@record_fault("drop_column", fraction=Param(float, 1.0, 0.0, 1.0), column=Param(str))
def drop_column(record: dict, params: Mapping[str, Any], ctx: RecordContext) -> None:
    record.pop(params["column"], None)


@record_fault(
    "retype_column", fraction=Param(float, 1.0, 0.0, 1.0), column=Param(str),
    to=Param(str, choices=RETYPE_TARGETS),
)
def retype_column(record: dict, params: Mapping[str, Any], ctx: RecordContext) -> None:
    """Serve a column with the wrong JSON type: `to` is string, number, integer, boolean,
    object ({"value": v}), array ([v]) or null. Unparseable numbers become 0."""
    column = params["column"]
    if column in record:
        record[column] = _retype(record[column], params["to"])


def _retype(value: Any, to: str) -> Any:
    if to == "string":
        return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    if to in ("number", "integer"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = 0.0
        return int(number) if to == "integer" else number
    conversions = {"boolean": bool, "object": lambda v: {"value": v}, "array": lambda v: [v],
                   "null": lambda v: None}
    return conversions[to](value)


REFERENCE_NAMES = {"inventory": "inventory_items"}  # the reference's name where it differs
JSON_VALUE = (str, int, float, bool, dict, list)  # what TOML can say that JSON can carry


@functools.cache
def _declared_fields(stream: str) -> frozenset[str]:
    """Every top-level field the reference declares for a stream, include-only ones too."""
    entry = reference.endpoint(REFERENCE_NAMES.get(stream, stream))
    return frozenset(entry["fields"]) | frozenset(entry["only_with_include"])


def _new_field(params: Mapping[str, Any], endpoint: str) -> str | None:
    name = params["field"]
    if not name:
        return "field must not be empty"
    streams = STREAMS if endpoint == "*" else (endpoint,)
    known = [s for s in streams if name in _declared_fields(s)]
    if known:
        return (f"field {name!r} is already a field of {known[0]} in the reference: add_field "
                "adds a field the records do not have (to alter one, use retype_column)")
    try:
        json.dumps(params["value"])
    except TypeError as exc:  # a TOML date or time inside a table
        return f"value must hold only JSON values (write dates as strings): {exc}"
    return None


@record_fault("add_field", field=Param(str), value=Param(JSON_VALUE), check=_new_field)
def add_field(record: dict, params: Mapping[str, Any], ctx: RecordContext) -> None:
    """A field the reference does not declare yet (BigCommerce adds fields without a new
    version) appears with the same `value` in every chosen record."""
    record[params["field"]] = params["value"]
