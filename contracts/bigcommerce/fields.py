"""Field builders the BigCommerce contracts share, so one kind of field reads one way everywhere.

Each returns a `pandera.Field`; the column's Python type stays in the model's annotation. What
the audit frame accepts follows that annotation (`checks/frame.py`): `int` a JSON integer,
`float` a JSON number or a decimal string (v2 money), `str` a string, `bool` a boolean, a
timezone-aware datetime a date string in the format named here, `object` anything (nested).
"""

from __future__ import annotations

from typing import Any

import pandera.pandas as pa

TIME = {"dtype_kwargs": {"unit": "ns", "tz": "UTC"}}
# BigCommerce's int32 fields (sort orders, stock levels) as its reference bounds them.
INT32_MIN, INT32_MAX = -2_147_483_648, 2_147_483_647


def _pii(pii: str | None, extra: dict[str, Any] | None = None) -> dict[str, Any] | None:
    metadata = dict(extra or {})
    if pii:
        metadata["pii"] = pii
    return metadata or None


def text(description: str, *, max_length: int | None = None, nullable: bool = False,
         pii: str | None = None, **checks: Any) -> Any:
    """A string; `max_length` is the reference's maxLength, enforced as `str_length`."""
    if max_length is not None:
        checks["str_length"] = {**checks.get("str_length", {}), "max_value": max_length}
    return pa.Field(nullable=nullable, description=description, metadata=_pii(pii), **checks)


def money(description: str, *, nullable: bool = False) -> Any:
    """An amount that can never be negative (v2: a 4-decimal string, v3: a JSON number)."""
    return pa.Field(ge=0, nullable=nullable, description=description)


def v2_time(description: str, *, nullable: bool = False) -> Any:
    """A v2 date: RFC-2822 text ("Tue, 05 Mar 2026 09:00:00 +0000"); "" reads as no date."""
    return pa.Field(**TIME, nullable=nullable, description=description,
                    metadata={"format": "rfc2822"})


def v3_time(description: str, *, nullable: bool = False) -> Any:
    """A v3 date: ISO-8601 with a time zone ("2026-03-05T09:00:00Z")."""
    return pa.Field(**TIME, nullable=nullable, description=description,
                    metadata={"format": "iso8601"})


def nested(description: str, *, nullable: bool = False, pii: str | None = None) -> Any:
    """A JSON object or array, kept whole (the staging models read inside it)."""
    return pa.Field(nullable=nullable, description=description, metadata=_pii(pii))
