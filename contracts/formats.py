"""How sources send their dates, and the one parser for them (used by extraction and audits)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

TimeFormat = Literal["rfc2822", "iso8601", "native"]


def parse_time(value: Any, fmt: TimeFormat) -> datetime:
    """A timezone-aware UTC datetime, or ValueError with what was expected."""
    if fmt == "native" and isinstance(value, datetime):
        parsed = value
    elif fmt == "rfc2822" and isinstance(value, str):
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError) as error:
            raise ValueError(f"{value!r} is not an RFC-2822 date") from error
    elif fmt == "iso8601" and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"{value!r} is not an ISO-8601 date") from error
    else:
        raise ValueError(f"{value!r} is not a {fmt} date")
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed.astimezone(UTC)
