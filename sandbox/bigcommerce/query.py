"""A request's query string, read the way BigCommerce reads it, and the v3 paging blocks.

`Query` accepts exactly the query parameters BigCommerce's reference declares for the endpoint
(`reference.py`): any other name is refused, as are values outside a declared `enum`. Bad values
answer 422 on v3 and 400 on v2, with the parameter named in the error; a `limit` above 250 is
413. v3 cursor paging (`after` / `before`) uses opaque cursors: the urlsafe base64 of a record
id, without padding.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

from sandbox.bigcommerce import reference
from sandbox.bigcommerce.formats import parse_filter_date
from sandbox.bigcommerce.listing import ApiError

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
TRUE, FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
DAY = 86_400


class Query:
    """Typed access to one request's query string, checked against the endpoint's reference."""

    def __init__(self, params: Mapping[str, str], endpoint: str | None = None,
                 v2: bool = False) -> None:
        """`endpoint` names the reference entry (None: accept any parameter, check no enum)."""
        self.params, self.endpoint, self.v2 = params, endpoint, v2
        if endpoint is None:
            return
        accepted = reference.query_parameters(endpoint)
        unknown = sorted(set(params) - accepted)
        if unknown:
            raise self.error(
                "Unknown query parameter(s): " + ", ".join(unknown),
                {name: f"is not a query parameter of {endpoint}; it takes {sorted(accepted)}"
                 for name in unknown})
        for name in params:
            self._check_enum(name)

    def error(self, title: str, errors: Mapping[str, str]) -> ApiError:
        return ApiError(400 if self.v2 else 422, title, errors, v2=self.v2)

    def invalid(self, name: str, message: str) -> ApiError:
        return self.error("The filter is invalid", {name: message})

    def _check_enum(self, name: str) -> None:
        spec = reference.query_parameter(self.endpoint, name)
        if "enum" not in spec or (self.v2 and name == "sort"):  # v2 sort takes :asc / :desc
            return
        allowed = [str(v) for v in spec["enum"]]
        values = self.strings(name) if spec.get("type") == "array" else {self.params[name]}
        wrong = sorted(set(values) - set(allowed))
        if wrong:
            raise self.invalid(name, f"unknown value(s) {wrong}; allowed: {allowed}")

    def enum(self, name: str) -> list[str]:
        return [str(v) for v in reference.query_parameter(self.endpoint, name)["enum"]]

    def page_limit(self) -> tuple[int, int]:
        page = self.integer("page") or 1
        limit = self.integer("limit") or DEFAULT_LIMIT
        if limit > MAX_LIMIT:
            raise ApiError(413, f"The specified limit exceeds the maximum of {MAX_LIMIT}",
                           {"limit": str(limit)}, v2=self.v2)
        return page, limit

    def integer(self, name: str, minimum: int = 1) -> int | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        text = raw.strip().removeprefix("-")
        if not text.isdigit() or int(raw) < minimum:
            raise self.invalid(name, f"must be an integer >= {minimum}, got {raw!r}")
        return int(raw)

    def number(self, name: str) -> float | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        try:
            return float(raw)
        except ValueError:
            raise self.invalid(name, f"must be a number, got {raw!r}") from None

    def boolean(self, name: str) -> bool | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        if raw.strip().lower() not in TRUE | FALSE:
            raise self.invalid(name, f"must be true, false, 1 or 0, got {raw!r}")
        return raw.strip().lower() in TRUE

    def date(self, name: str) -> float | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        try:
            return parse_filter_date(raw)
        except ValueError:
            raise self.invalid(name, f"must be an ISO-8601 or RFC-2822 date, got {raw!r}") from None

    def instant_or_day(self, name: str) -> tuple[float, float] | None:
        """Bounds of a bare date parameter: that whole day for `2025-01-14`, else that second."""
        start = self.date(name)
        if start is None:
            return None
        whole_day = len(self.params[name].strip()) == 10
        return start, start + (DAY - 1 if whole_day else 0)

    def integers(self, name: str) -> frozenset[int] | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise self.invalid(name, f"must be a comma-separated list of integers, got {raw!r}")
        return frozenset(int(p) for p in parts)

    def numbers(self, name: str) -> frozenset[float] | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        try:
            return frozenset(float(p) for p in raw.split(",") if p.strip())
        except ValueError:
            raise self.invalid(name, f"must be a comma-separated list of numbers, "
                                     f"got {raw!r}") from None

    def strings(self, name: str) -> frozenset[str] | None:
        raw = self.params.get(name)
        return None if raw is None else frozenset(p.strip() for p in raw.split(",") if p.strip())

    def choice(self, name: str, allowed: Sequence[str], default: str) -> str:
        raw = self.params.get(name, default)
        if raw not in allowed:
            raise self.invalid(name, f"must be one of {list(allowed)}, got {raw!r}")
        return raw

    def includes(self) -> frozenset[str]:
        """The `include=` values asked for (each already checked against the reference)."""
        return self.strings("include") or frozenset()

    def v2_sort(self, default: str = "id") -> tuple[str, bool]:
        """(field, descending) from `sort=<field>`, `<field>:asc` or `<field>:desc`."""
        raw = self.params.get("sort", default)
        field, _, direction = raw.partition(":")
        if field not in self.enum("sort") or direction not in ("", "asc", "desc"):
            raise self.invalid("sort", f"must be <field>, <field>:asc or <field>:desc with a "
                                       f"field of {self.enum('sort')}, got {raw!r}")
        return field, direction == "desc"

    def cursor(self, name: str) -> int | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        try:
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = ""
        if not text.isdigit():
            raise self.invalid(name, f"is not a cursor this endpoint gave out: {raw!r}")
        return int(text)


def encode_cursor(record_id: int) -> str:
    return base64.urlsafe_b64encode(str(record_id).encode()).decode().rstrip("=")


def _link(params: Mapping[str, str], drop: tuple[str, ...], first: dict) -> str:
    query = {**first, **{k: v for k, v in params.items() if k not in drop}}
    return "?" + urlencode(query, quote_via=quote, safe=":,")


def pagination(params: Mapping[str, str], total: int, page: int, limit: int) -> dict:
    """The v3 `meta.pagination` block; links are relative and keep the other parameters."""
    total_pages = math.ceil(total / limit)
    count = max(0, min(limit, total - (page - 1) * limit))

    def link(number: int) -> str:
        return _link(params, ("page", "limit"), {"page": number, "limit": limit})

    links = {"current": link(page)}
    if page > 1:
        links["previous"] = link(min(page - 1, max(total_pages, 1)))
    if page < total_pages:
        links["next"] = link(page + 1)
    return {"total": total, "count": count, "per_page": limit, "current_page": page,
            "total_pages": total_pages, "links": links}


def cursor_pagination(params: Mapping[str, str], served: Sequence[dict], limit: int,
                      has_previous: bool, has_next: bool) -> dict:
    """The v3 `meta.cursor_pagination` block for a page of records in id order.

    `links.next` (`after` the page's last record) and `links.previous` (`before` its first)
    are there only when records lie beyond that end; the cursors are null on an empty page.
    """
    ids = [record["id"] for record in served if isinstance(record.get("id"), int)]
    start = encode_cursor(ids[0]) if ids else None
    end = encode_cursor(ids[-1]) if ids else None
    drop = ("page", "limit", "after", "before")
    links = {}
    if has_previous and start:
        links["previous"] = _link(params, drop, {"limit": limit, "before": start})
    if has_next and end:
        links["next"] = _link(params, drop, {"limit": limit, "after": end})
    return {"count": len(served), "per_page": limit, "start_cursor": start, "end_cursor": end,
            "links": links}
