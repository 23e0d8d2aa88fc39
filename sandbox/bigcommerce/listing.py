"""Listing mechanics shared by the endpoints: query parsing, filtering, ordering, paging.

`Table` answers "which records, in which order" for a normalised filter, and caches recent
answers so that paging through one query costs one filter-and-sort, not one per page. Ties are
always broken by id, so every page of a listing is exact: each record appears on exactly one.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from sandbox.bigcommerce.formats import parse_filter_date, record_epoch

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
DATE_FIELDS = frozenset({"date_modified", "date_created"})

Filter = tuple[str, str, Any]  # (field, operator, value), hashable so selections can be cached
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "min": operator.ge, "max": operator.le, "eq": operator.eq,
    "in": lambda value, allowed: value in allowed,
}


class ApiError(Exception):
    """An error answer: rendered as a v3 body, or as the v2 `[{status, message}]` list."""

    def __init__(self, status: int, title: str, errors: Mapping[str, str] | None = None,
                 v2: bool = False) -> None:
        super().__init__(title)
        self.status, self.title, self.errors, self.v2 = status, title, dict(errors or {}), v2

    def body(self) -> Any:
        if self.v2:
            detail = "; ".join(f"{k}: {v}" for k, v in self.errors.items())
            return [{"status": self.status, "message": f"{self.title}. {detail}".strip(". ")}]
        return v3_error(self.status, self.title, self.errors)


def v3_error(status: int, title: str, errors: Mapping[str, str] | None = None) -> dict:
    return {"status": status, "title": title, "type": ERROR_TYPE, "errors": dict(errors or {})}


class Query:
    """Typed access to a request's query string; bad values raise 422 (v3) or 400 (v2)."""

    def __init__(self, params: Mapping[str, str], v2: bool = False) -> None:
        self.params, self.v2 = params, v2

    def invalid(self, name: str, message: str) -> ApiError:
        if self.v2:
            return ApiError(400, "The filter is invalid", {name: message}, v2=True)
        return ApiError(422, "The filter is invalid", {name: message})

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
        if not raw.strip().isdigit() or int(raw) < minimum:
            raise self.invalid(name, f"must be an integer >= {minimum}, got {raw!r}")
        return int(raw)

    def date(self, name: str) -> float | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        try:
            return parse_filter_date(raw)
        except ValueError:
            raise self.invalid(name, f"must be an ISO-8601 or RFC-2822 date, got {raw!r}") from None

    def integers(self, name: str) -> frozenset[int] | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise self.invalid(name, f"must be a comma-separated list of integers, got {raw!r}")
        return frozenset(int(p) for p in parts)

    def strings(self, name: str) -> frozenset[str] | None:
        raw = self.params.get(name)
        return None if raw is None else frozenset(p.strip() for p in raw.split(",") if p.strip())

    def choice(self, name: str, allowed: Sequence[str], default: str) -> str:
        raw = self.params.get(name, default)
        if raw not in allowed:
            raise self.invalid(name, f"must be one of {list(allowed)}, got {raw!r}")
        return raw

    def includes(self, allowed: Sequence[str]) -> frozenset[str]:
        wanted = self.strings("include") or frozenset()
        unknown = wanted - set(allowed)
        if unknown:
            raise self.invalid("include", f"unknown value(s) {sorted(unknown)}; "
                                          f"allowed: {list(allowed)}")
        return wanted


def filters(*candidates: Filter) -> tuple[Filter, ...]:
    """The filters the client actually sent (those whose value is not None)."""
    return tuple(f for f in candidates if f[2] is not None)


class Table:
    """One stream's records in id order, with lazily built columns for filtering and sorting."""

    def __init__(self, records: Sequence[dict], id_field: str = "id",
                 nested: str | None = None) -> None:
        self.records, self.id_field, self.nested = records, id_field, nested
        self._columns: dict[str, list[Any]] = {}
        self.select = functools.lru_cache(maxsize=64)(self._select)

    def column(self, name: str) -> list[Any]:
        if name not in self._columns:
            self._columns[name] = [self._value(r, name) for r in self.records]
        return self._columns[name]

    def _value(self, record: dict, name: str) -> Any:
        row = record[self.nested] if self.nested else record
        return record_epoch(row[name]) if name in DATE_FIELDS else row.get(name)

    def changed(self, positions: Sequence[int]) -> None:
        """Records at `positions` were edited in place: refresh their cached values and forget
        every cached selection, so the next listing sees the edit (in its sort order too)."""
        for name, column in self._columns.items():
            for i in positions:
                column[i] = self._value(self.records[i], name)
        self.select.cache_clear()

    def _select(self, conditions: tuple[Filter, ...], sort: str | None = None,
                descending: bool = False) -> list[dict]:
        indices: Sequence[int] = range(len(self.records))
        for name, op, value in conditions:
            column, test = self.column(name), _OPERATORS[op]
            indices = [i for i in indices if test(column[i], value)]
        if sort and (sort != self.id_field or descending):
            keys, ids = self.column(sort), self.column(self.id_field)
            indices = sorted(indices, key=lambda i: (keys[i], ids[i]), reverse=descending)
        return [self.records[i] for i in indices]


def pagination(params: Mapping[str, str], total: int, page: int, limit: int) -> dict:
    """The v3 `meta.pagination` block; links are relative and keep the other parameters."""
    total_pages = math.ceil(total / limit)
    count = max(0, min(limit, total - (page - 1) * limit))
    others = {k: v for k, v in params.items() if k not in ("page", "limit")}

    def link(number: int) -> str:
        query = {"page": number, "limit": limit, **others}
        return "?" + urlencode(query, quote_via=quote, safe=":,")

    links = {"current": link(page)}
    if page > 1:
        links["previous"] = link(min(page - 1, max(total_pages, 1)))
    if page < total_pages:
        links["next"] = link(page + 1)
    return {"total": total, "count": count, "per_page": limit, "current_page": page,
            "total_pages": total_pages, "links": links}
