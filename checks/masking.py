"""Masking of personal data, applied to every value before it is shown anywhere.

The contract classifies columns (email, phone, name, address, ip, free_text); a value from such
a column is shown by its shape only: letters become `x`, digits `9`, and punctuation stays, so
a steward still sees *why* `kim.minji#example.com` is not an e-mail (`xxx.xxxxx#xxxxxxx.xxx`)
without seeing whose it was. Long text and nested objects are replaced by their class and size.
Raw values exist unmasked only in the quarantine store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_SHAPE_CHARS = 64
MAX_PLAIN_CHARS = 80


def _shape(text: str) -> str:
    return "".join("x" if ch.isalpha() else "9" if ch.isdigit() else ch for ch in text)


def mask(value: Any, pii: str | None) -> str:
    """How a value may be shown: as it is (truncated) if not PII, else masked."""
    if value is None:
        return "null"
    if pii is None:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return text if len(text) <= MAX_PLAIN_CHARS else text[: MAX_PLAIN_CHARS - 1] + "…"
    if isinstance(value, str) and len(value) <= MAX_SHAPE_CHARS:
        return _shape(value)
    size = len(value) if isinstance(value, str | list | dict) else 1
    return f"<{pii} masked, size {size}>"


def pii_of(column: str | None, pii_columns: Mapping[str, str]) -> str | None:
    """The PII class of a column, or of any column in a pair ("a,b")."""
    if column is None:
        return None
    classes = [pii_columns[name] for name in column.split(",") if name in pii_columns]
    return classes[0] if classes else None
