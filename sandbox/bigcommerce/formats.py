"""The wire formats of the BigCommerce API: v2 and v3 dates, and money strings.

Shared by the data generator (which writes them) and the server (which parses filters and
indexes records by them), so both sides agree on exactly one layout per format.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def iso8601(ts: int) -> str:
    """v3 date format: `2018-11-13T21:42:06Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def rfc2822(ts: int) -> str:
    """v2 date format: `Wed, 10 Jan 2018 21:05:30 +0000` (names fixed, never the locale's)."""
    t = time.gmtime(ts)
    clock = time.strftime("%H:%M:%S", t)
    return f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} {clock} +0000"


@functools.lru_cache(maxsize=1 << 17)  # prices repeat a lot; sharing the strings saves time and RAM
def money(hundredths: int) -> str:
    """4-decimal money string from integer hundredths: 33632 -> "336.3200"."""
    sign = "-" if hundredths < 0 else ""
    whole, cents = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{cents:02d}00"


def record_epoch(text: str) -> float:
    """Epoch seconds of a date the generator wrote (either layout); fast enough to index 100k."""
    if text[:1].isdigit():
        return datetime.fromisoformat(text).timestamp()
    day, month, year = int(text[5:7]), _MONTHS.index(text[8:11]) + 1, int(text[12:16])
    hh, mm, ss = (int(part) for part in text[17:25].split(":"))
    return datetime(year, month, day, hh, mm, ss, tzinfo=UTC).timestamp()


def parse_filter_date(text: str) -> float:
    """Epoch seconds of a client's date filter; raises ValueError when it is not a date.

    Accepts what the real API accepts across v2 and v3: ISO-8601 / RFC-3339 (a naive time is
    UTC), a bare `YYYY-MM-DD`, RFC-2822, or a Unix timestamp.
    """
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"not an ISO-8601 or RFC-2822 date: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
