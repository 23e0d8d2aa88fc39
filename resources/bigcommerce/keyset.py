"""Keyset reads: a list read in ranges of its integer id (`min_id` / `id:min`), each range page
after page from the last id seen, several ranges at once. An id never changes, so a record
modified during the read cannot move out of the range being read (see `reads`).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from resources.bigcommerce.client import BigCommerceClient, BigCommerceError
from resources.bigcommerce.merge import merge_pages, split_range

PAGE = 250  # the maximum page size of every list endpoint


@dataclass(frozen=True)
class KeysetListing:
    """How one list endpoint spells an id range and an id order."""

    path: str
    min_param: str
    max_param: str
    ascending: dict[str, str]
    descending: dict[str, str]
    v2: bool = False
    key: str = "id"


V2_ORDERS = KeysetListing("v2/orders", "min_id", "max_id", {"sort": "id:asc"},
                          {"sort": "id:desc"}, v2=True)
V3_PRODUCTS = KeysetListing("v3/catalog/products", "id:min", "id:max",
                            {"sort": "id", "direction": "asc"},
                            {"sort": "id", "direction": "desc"})


def _records(listing: KeysetListing, body: Any) -> list[Any]:
    if body is None:
        return []  # v2's 204 past the end
    records = body if listing.v2 else (body.get("data") if isinstance(body, dict) else None)
    if not isinstance(records, list):
        raise BigCommerceError(f"GET {listing.path}: expected a list of records")
    return records


def _key(record: Any, name: str) -> int | None:
    """A record's id as an integer, also when the source sent it as a number or digit string
    (the audit quarantines such a record; the read must still go on past it)."""
    value = record.get(name) if isinstance(record, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    with contextlib.suppress(TypeError, ValueError):
        number = float(value)
        if number.is_integer():
            return int(number)
    return None


def _last_key(records: list[Any], name: str) -> int | None:
    """The id to read on from: the end of the longest ascending run of ids on the page.

    The page is in id order, so a few ids the source mangled (a record sent with another
    record's id) stand out of that run and cannot make the read jump past unread records,
    unless the mangled record is the page's very last.
    """
    tails: list[int] = []  # tails[i]: smallest tail of an ascending run of length i + 1
    for key in (_key(r, name) for r in records):
        if key is None:
            continue
        at = bisect.bisect_left(tails, key)
        if at == len(tails):
            tails.append(key)
        else:
            tails[at] = key
    return tails[-1] if tails else None


async def keyset(client: BigCommerceClient, listing: KeysetListing, params: dict[str, Any],
                 *, limit: int = PAGE) -> AsyncIterator[list[Any]]:
    """Every record of the list, each once: the first page, then the ids above it split into
    `client.concurrency` ranges read side by side."""
    # The highest id is asked for beside the first page, not after it: one round trip less.
    (_, body), (_, top) = await asyncio.gather(
        client.get(listing.path, {**params, **listing.ascending, "limit": limit}),
        client.get(listing.path, {**params, **listing.descending, "limit": 1}))
    first = _records(listing, body)
    if first:
        yield first
    if len(first) < limit:
        return
    after = _last_key(first, listing.key)
    if after is None:  # no id to go on from: read on by page number (see _Chain)
        async for page in _Chain(client, listing, params, limit, None, None, page=2).pages():
            yield page
        return
    last = [k for k in (_key(r, listing.key) for r in _records(listing, top)) if k is not None]
    low, high = after + 1, (last[0] if last else None)
    ranges = split_range(low, high, client.concurrency) if high is not None else [(low, None)]
    chains = [_Chain(client, listing, params, limit, lo, hi) for lo, hi in ranges]
    async for page in merge_pages([chain.pages() for chain in chains]):
        yield page


@dataclass
class _Chain:
    """One id range read from its low end; when a full page carries no readable id (the source
    dropped or mangled it), the rest of the range is read by page number instead, which is
    complete as long as the range does not change meanwhile."""

    client: BigCommerceClient
    listing: KeysetListing
    params: dict[str, Any]
    limit: int
    low: int | None
    high: int | None
    page: int | None = None

    def _query(self) -> dict[str, Any]:
        query = {**self.params, **self.listing.ascending, "limit": self.limit}
        if self.low is not None:
            query[self.listing.min_param] = self.low
        if self.high is not None:
            query[self.listing.max_param] = self.high
        if self.page is not None:
            query["page"] = self.page
        return query

    async def pages(self) -> AsyncIterator[list[Any]]:
        while True:
            _, body = await self.client.get(self.listing.path, self._query())
            records = _records(self.listing, body)
            if records:
                yield records
            if len(records) < self.limit:
                return
            after = _last_key(records, self.listing.key)
            if self.page is None and after is not None:
                self.low = after + 1
            else:
                self.page = (self.page or 1) + 1
