"""Masking of personal data, applied to every value before it is shown anywhere.

The contract classifies columns (email, phone, name, address, ip, free_text); a value from such
a column is shown by its shape only: letters become `x`, digits `9`, and punctuation stays, so
a steward still sees *why* `kim.minji#example.com` is not an e-mail (`xxx.xxxxx#xxxxxxx.xxx`)
without seeing whose it was. Long text and nested objects are replaced by their class and size.
A value of a type this module does not know (bytes, a custom object) is shown as its type only,
`<bytes>`, in any column: its text form could be anything, the raw value included.
Raw values exist unmasked only in the quarantine store.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from datetime import date, time
from typing import Any

import numpy as np

MAX_SHAPE_CHARS = 64
MAX_PLAIN_CHARS = 80
# What JSON (and a parsed date) can hold: everything a staged record's value can be.
_KNOWN = (str, bool, numbers.Number, list, tuple, dict, date, time)


def _shape(text: str) -> str:
    return "".join("x" if ch.isalpha() else "9" if ch.isdigit() else ch for ch in text)


def _type_only(value: Any) -> str:
    return f"<{type(value).__name__}>"


def _json_part(value: Any) -> Any:
    """A value inside a list or dict that JSON cannot write: a date by its ISO form, a
    Decimal by its digits, anything else by its type."""
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
        return value if isinstance(value, bool | int | float) else _json_part(value)
    return str(value) if isinstance(value, numbers.Number) else _type_only(value)


def _plain_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, numbers.Number) and not isinstance(value, bool | int | float):
        return str(value)  # a Decimal: its own digits
    return json.dumps(value, default=_json_part, ensure_ascii=False)


def mask(value: Any, pii: str | None) -> str:
    """How a value may be shown: as it is (truncated) if not PII, else masked."""
    if isinstance(value, np.generic):  # a NumPy scalar from a frame: its Python value
        value = value.item()
    if value is None:
        return "null"
    if not isinstance(value, _KNOWN):
        return _type_only(value)
    if pii is None:
        text = _plain_text(value)
        return text if len(text) <= MAX_PLAIN_CHARS else text[: MAX_PLAIN_CHARS - 1] + "…"
    if isinstance(value, str) and len(value) <= MAX_SHAPE_CHARS:
        return _shape(value)
    size = len(value) if isinstance(value, str | list | tuple | dict) else 1
    return f"<{pii} masked, size {size}>"


def pii_of(column: str | None, pii_columns: Mapping[str, str]) -> str | None:
    """The PII class of a column, or of any column in a pair ("a,b")."""
    if column is None:
        return None
    classes = [pii_columns[name] for name in column.split(",") if name in pii_columns]
    return classes[0] if classes else None
