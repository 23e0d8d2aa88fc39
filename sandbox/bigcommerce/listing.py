"""Listing mechanics shared by the endpoints: filtering, ordering, error answers.

Query strings are read by `query.Query`, which also builds the v3 paging blocks.

`Table` answers "which records, in which order" for a normalised filter, and caches recent
answers so that paging through one query costs one filter-and-sort, not one per page. Ties are
always broken by id, so every page of a listing is exact: each record appears on exactly one.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sandbox.bigcommerce.formats import record_epoch

ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
DATE_FIELDS = frozenset({"date_modified", "date_created"})

Filter = tuple[str, str, Any]  # (field, operator, value), hashable so selections can be cached
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "min": operator.ge, "max": operator.le, "eq": operator.eq, "ne": operator.ne,
    "greater": operator.gt, "less": operator.lt,
    "in": lambda value, allowed: value in allowed,
    "not_in": lambda value, excluded: value not in excluded,
    "between": lambda value, bounds: bounds[0] <= value <= bounds[1],
    "like": lambda value, needles: isinstance(value, str)
    and any(n in value.lower() for n in needles),
    "has": lambda values, wanted: wanted in values,  # a list field holds the value
    "overlaps": lambda values, wanted: not wanted.isdisjoint(values),
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


def filters(*candidates: Filter) -> tuple[Filter, ...]:
    """The filters the client actually sent (those whose value is not None)."""
    return tuple(f for f in candidates if f[2] is not None)


class Rows(Sequence):
    """A selection's records, looked up only when a page asks for them: a listing of 150,000
    orders would otherwise build a 150,000-item list to serve 250 of them."""

    def __init__(self, records: Sequence[dict], positions: Sequence[int]) -> None:
        self._records, self._positions = records, positions

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, at):  # type: ignore[override]  # int -> dict, slice -> list[dict]
        if isinstance(at, slice):
            return [self._records[i] for i in self._positions[at]]
        return self._records[self._positions[at]]


# Id-range operators as (bisect function, whether it moves the low end).
_BISECT = {"min": (bisect.bisect_left, True), "greater": (bisect.bisect_right, True),
           "max": (bisect.bisect_right, False), "less": (bisect.bisect_left, False)}


class Table:
    """One stream's records in id order, with lazily built columns for filtering and sorting."""

    def __init__(self, records: Sequence[dict], id_field: str = "id",
                 nested: str | None = None) -> None:
        self.records, self.id_field, self.nested = records, id_field, nested
        self._columns: dict[str, list[Any]] = {}
        self._ids_sorted: bool | None = None  # known once an id range is first asked for
        self.select = functools.lru_cache(maxsize=64)(self._select)

    def index(self) -> None:
        """Build the columns every run's reads filter on (the id, and the dates a run is
        bounded by) now, before the first request, as a database keeps its indexes: built on
        first use they cost the first window of a benchmark a second and a half."""
        present = self.records[0][self.nested] if self.nested and self.records else (
            self.records[0] if self.records else {})
        for name in (self.id_field, *sorted(DATE_FIELDS & set(present))):
            self.column(name)

    def column(self, name: str) -> list[Any]:
        if name not in self._columns:
            # Records made on demand (`repeat.RepeatedOrders`) know their columns without
            # making every record.
            derive = getattr(self.records, "column", None)
            self._columns[name] = (derive(name, self._value) if derive else
                                   [self._value(r, name) for r in self.records])
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
        self._ids_sorted = None
        self.select.cache_clear()

    def _id_range(self, conditions: tuple[Filter, ...]) -> range:
        """The positions an id range allows, found by bisection: records are in id order, so a
        keyset page (`min_id`, `id:min`, ...) costs a lookup, not a scan of the whole table, as
        an indexed database answers it."""
        ids = self.column(self.id_field)
        low, high = 0, len(ids)
        if self._ids_sorted is None:
            self._ids_sorted = all(a < b for a, b in itertools.pairwise(ids))
        for name, op, value in conditions:
            if name == self.id_field and op in _BISECT and self._ids_sorted:
                side, is_low = _BISECT[op]
                at = side(ids, value)
                low, high = (max(low, at), high) if is_low else (low, min(high, at))
        return range(low, max(low, high))

    def _select(self, conditions: tuple[Filter, ...], sort: str | None = None,
                descending: bool = False) -> Rows:
        indices: Sequence[int] = self._id_range(conditions)
        for name, op, value in conditions:
            if name == self.id_field and op in _BISECT and self._ids_sorted:
                continue  # already applied by _id_range
            column, test = self.column(name), _OPERATORS[op]
            indices = [i for i in indices if test(column[i], value)]
        if sort == self.id_field and descending and self._ids_sorted:
            indices = indices[::-1]  # already in id order: reversing is the sort
        elif sort and (sort != self.id_field or descending):
            keys, ids = self.column(sort), self.column(self.id_field)
            indices = sorted(indices, key=lambda i: (keys[i], ids[i]), reverse=descending)
        return Rows(self.records, indices)
