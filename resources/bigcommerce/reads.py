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
  whose sub-list is gone (404/410: deleted since its parent was read) is reported, not fatal;
  `order_lines` reads the orders' lines with the orders instead, 250 orders a request, and
  falls back to the sub-list per order where the listing does not account for one.

Each yields plain lists of records as they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from resources.bigcommerce.client import BigCommerceClient, BigCommerceError, count_from
from resources.bigcommerce.keyset import PAGE, V2_ORDERS, V3_PRODUCTS, KeysetListing, keyset
from resources.bigcommerce.merge import merge_pages, split_range


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
    ranges = split_range(first, last if last is not None else first, client.concurrency)
    sources = [cursor(client, path, {**params, "date_created:min": _iso(lo),
                                     "date_created:max": _iso(hi)}, limit=limit)
               for lo, hi in ranges]
    async for page in merge_pages(sources):
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


GONE = frozenset({404, 410})


async def sublist(client: BigCommerceClient, path: str, *, limit: int = PAGE,
                  gone: frozenset[int] = GONE) -> list[Any] | None:
    """Every page of one v2 sub-list, or None when it answered a status in `gone`."""
    records: list[Any] = []
    for number in count_from(1):
        status, body = await client.get(path, {"limit": limit, "page": number}, tolerate=gone)
        if status in gone:
            client.stats.gone.append(f"{path} (HTTP {status})")
            return None
        if body is not None and not isinstance(body, list):
            raise BigCommerceError(f"GET {path}: expected a JSON array")
        records.extend(body or [])
        if len(body or []) < limit:
            return records
    raise AssertionError("count_from never ends")


async def side_by_side(client: BigCommerceClient, items: AsyncIterator[Any],
                       read: Callable[[Any], Awaitable[Any]]) -> AsyncIterator[Any]:
    """`read(item)` for every item, `2 * concurrency` at a time; results as they complete.

    Items are taken lazily, so memory holds only the reads in flight, whatever their number.
    """
    pending: set[asyncio.Task] = set()
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < 2 * client.concurrency:
                try:
                    item = await anext(items)
                except StopAsyncIteration:
                    exhausted = True
                    break
                pending.add(asyncio.create_task(read(item)))
            if not pending:
                return
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def sublists(client: BigCommerceClient, keys: AsyncIterator[Any], path_of: Any, *,
                   limit: int = PAGE, gone: frozenset[int] = GONE,
                   ) -> AsyncIterator[tuple[Any, list[Any] | None]]:
    """Every page of one v2 sub-list per key, several keys at once; yields (key, records), or
    (key, None) when the sub-list answered a status in `gone`."""

    async def read(key: Any) -> tuple[Any, list[Any] | None]:
        return key, await sublist(client, path_of(key), limit=limit, gone=gone)

    async for result in side_by_side(client, keys, read):
        yield result


__all__ = ["PAGE", "V2_ORDERS", "V3_PRODUCTS", "KeysetListing", "created_ranges", "cursor",
           "keyset", "side_by_side", "sublist", "sublists"]
