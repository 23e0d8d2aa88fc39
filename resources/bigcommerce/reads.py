"""Complete reads of lists that change while they are read.

Paging by page number over a list sorted by `date_modified` is not stable: a record modified
during the read moves to the end, every later page shifts by one, and an untouched record can be
skipped for good. So every list the extraction reads is bounded at the run's start
(`date_modified:max` / `max_date_modified`; what changed after it is the next run's) and read
in an order no change can disturb:

- `keyset`: ranges of the integer id (`min_id` / `id:min`), each range read page after page
  from the last id seen, several ranges at once so the quota is used, not the latency;
- `cursor`: BigCommerce's v3 cursor paging (`after`), for lists that have no id range filter,
  and `created_ranges`, several cursor reads side by side over ranges of `date_created`;
- `sublists`: one paged sub-list per key (an order's lines), several keys at once, where a key
  whose sub-list is gone (404/410: deleted since its parent was read) is reported, not fatal.

Each yields plain lists of records as they arrive.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from resources.bigcommerce.client import BigCommerceClient, BigCommerceError, count_from

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


async def created_ranges(client: BigCommerceClient, path: str, params: dict[str, Any],
                         *, limit: int = PAGE) -> AsyncIterator[list[Any]]:
    """Every record of a v3 cursor-paged list, several `date_created` ranges at once.

    Lists without an id range filter (customers) are split by creation time instead, which
    never changes either, and each range is read with `cursor`. Two small probes, side by side,
    find the range's ends; a list that fits on one page is read in one more request.
    """
    (_, body), (_, newest) = await asyncio.gather(
        client.get(path, {**params, "sort": "date_created:asc", "limit": 1}),
        client.get(path, {**params, "sort": "date_created:desc", "limit": 1}))
    total = int(((body or {}).get("meta") or {}).get("pagination", {}).get("total") or 0)
    first = _created(body)
    if total <= limit or first is None:
        async for page in cursor(client, path, params, limit=limit):
            yield page
        return
    last = _created(newest)
    ranges = _split(first, last if last is not None else first, client.concurrency)
    sources = [cursor(client, path, {**params, "date_created:min": _iso(lo),
                                     "date_created:max": _iso(hi)}, limit=limit)
               for lo, hi in ranges]
    async for page in _merge(sources):
        yield page


def _created(body: Any) -> int | None:
    """Epoch second of the first record's `date_created` in a v3 answer."""
    data = body.get("data") if isinstance(body, dict) else None
    if not data or not isinstance(data[0], dict):
        return None
    with contextlib.suppress(TypeError, ValueError):
        return int(datetime.fromisoformat(data[0]["date_created"]).timestamp())
    return None


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    ranges = _split(low, high, client.concurrency) if high is not None else [(low, None)]
    chains = [_Chain(client, listing, params, limit, lo, hi) for lo, hi in ranges]
    async for page in _merge([chain.pages() for chain in chains]):
        yield page


def _split(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    if high < low:
        return []
    step = max(1, -(-(high - low + 1) // parts))
    return [(lo, min(lo + step - 1, high)) for lo in range(low, high + 1, step)]


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


async def _merge(sources: list[AsyncIterator[list[Any]]]) -> AsyncIterator[list[Any]]:
    """Pages of several readers as they arrive; the first error cancels the rest."""
    queue: asyncio.Queue = asyncio.Queue(maxsize=2 * max(1, len(sources)))
    done = object()

    async def pump(source: AsyncIterator[list[Any]]) -> None:
        try:
            async for page in source:
                await queue.put(page)
        except BaseException as error:  # handed to the consumer, who raises it
            await queue.put(error)
            return
        await queue.put(done)

    tasks = [asyncio.create_task(pump(source)) for source in sources]
    try:
        remaining = len(tasks)
        while remaining:
            item = await queue.get()
            if item is done:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def cursor(client: BigCommerceClient, path: str, params: dict[str, Any],
                 *, limit: int = PAGE) -> AsyncIterator[list[Any]]:
    """Every record of a v3 list with cursor paging, following `meta.cursor_pagination`."""
    query: dict[str, Any] = {**params, "limit": limit}
    while True:
        _, body = await client.get(path, query)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise BigCommerceError(f"GET {path}: expected a v3 envelope with a `data` list")
        if body["data"]:
            yield body["data"]
        paging = (body.get("meta") or {}).get("cursor_pagination") or {}
        end = paging.get("end_cursor")
        if len(body["data"]) < limit or not end or not (paging.get("links") or {}).get("next"):
            return
        query = {**params, "limit": limit, "after": end}


async def sublists(client: BigCommerceClient, keys: AsyncIterator[Any], path_of: Any, *,
                   limit: int = PAGE, gone: frozenset[int] = frozenset({404, 410}),
                   ) -> AsyncIterator[tuple[Any, list[Any] | None]]:
    """Every page of one v2 sub-list per key, `concurrency` keys at a time; yields
    (key, records), or (key, None) when the sub-list answered a status in `gone`.

    Results come as they complete; keys are read lazily, so memory holds only the requests in
    flight, whatever the number of keys.
    """

    async def fetch(key: Any) -> tuple[Any, list[Any] | None]:
        records: list[Any] = []
        for number in count_from(1):
            status, body = await client.get(path_of(key), {"limit": limit, "page": number},
                                            tolerate=gone)
            if status in gone:
                client.stats.gone.append(f"{path_of(key)} (HTTP {status})")
                return key, None
            if body is not None and not isinstance(body, list):
                raise BigCommerceError(f"GET {path_of(key)}: expected a JSON array")
            records.extend(body or [])
            if len(body or []) < limit:
                return key, records
        raise AssertionError("count_from never ends")

    pending: set[asyncio.Task] = set()
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < 2 * client.concurrency:
                try:
                    key = await anext(keys)
                except StopAsyncIteration:
                    exhausted = True
                    break
                pending.add(asyncio.create_task(fetch(key)))
            if not pending:
                return
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
