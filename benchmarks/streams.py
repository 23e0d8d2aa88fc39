"""The six BigCommerce reads as the extraction assets make them, for the extraction benchmark.

Each reader returns the ids it received, so the benchmark can count what was lost or doubled.
`python -m benchmarks.streams STREAM BASE_URL LEDGER START_AT` reads one stream in a process of
its own (as Dagster's multiprocess executor runs the extraction steps) and prints a JSON line;
the token comes from BENCHMARK_TOKEN, never the command line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

from resources.bigcommerce import BigCommerceClient, reads
from resources.bigcommerce.ledger import FileLedger
from resources.bigcommerce.order_lines import LineSources, order_lines

LINES_OF = 600  # order-line reads: the lines of this many orders, one sub-list each
WITH_ORDERS_OF = 15_000  # and of this many, read with their orders (60 requests)
INVENTORY_PRODUCTS = 50


def _bounds() -> tuple[dict, dict]:
    start = datetime.now(UTC)
    return ({"max_date_modified": format_datetime(start)},
            {"date_modified:max": start.strftime("%Y-%m-%dT%H:%M:%SZ")})


async def orders(client: BigCommerceClient) -> Counter:
    seen: Counter = Counter()
    async for records in reads.keyset(client, reads.V2_ORDERS, _bounds()[0]):
        seen.update(r["id"] for r in records)
    return seen


async def sublist_per_order(client: BigCommerceClient) -> Counter:
    """The lines read the old way: one `/orders/{id}/products` sub-list per order."""
    seen: Counter = Counter()

    async def keys():
        for order_id in range(100, 100 + LINES_OF):
            yield order_id

    async for _, records in reads.sublists(client, keys(), lambda k: f"v2/orders/{k}/products"):
        seen.update(r["id"] for r in records or ())
    return seen


async def order_lines_with_orders(client: BigCommerceClient) -> Counter:
    """The lines as the extraction reads them: with their orders, 250 orders a request."""
    seen: Counter = Counter()

    async def keys():
        for order_id in range(100, 100 + WITH_ORDERS_OF):
            yield order_id, None

    async for _, records in order_lines(client, keys(), LineSources()):
        seen.update(r["id"] for r in records or ())
    return seen


async def customers(client: BigCommerceClient) -> Counter:
    seen: Counter = Counter()
    params = {"include": "addresses,attributes,formfields,storecredit", **_bounds()[1]}
    read = reads.created_ranges if client.concurrency > 1 else reads.cursor
    async for records in read(client, "v3/customers", params):
        seen.update(r["id"] for r in records)
    return seen


async def metafields(client: BigCommerceClient) -> Counter:
    seen: Counter = Counter()
    async for records in reads.cursor(client, "v3/customers/metafields", _bounds()[1]):
        seen.update(r["id"] for r in records)
    return seen


async def products(client: BigCommerceClient) -> Counter:
    seen: Counter = Counter()
    params = {"include": "variants", **_bounds()[1]}
    async for records in reads.keyset(client, reads.V3_PRODUCTS, params):
        seen.update(r["id"] for r in records)
    return seen


async def inventory(client: BigCommerceClient) -> Counter:
    seen: Counter = Counter()
    ids = ",".join(str(i) for i in range(1, INVENTORY_PRODUCTS + 1))
    async for page in client.iter_v3("v3/inventory/items", {"product_id:in": ids}):
        seen.update(r["identity"]["variant_id"] for r in page.records)
    return seen


READERS: dict[str, Callable] = {
    "customers": customers, "customer metafields": metafields, "orders": orders,
    "order lines, one sub-list per order": sublist_per_order,
    "order lines, with their orders": order_lines_with_orders,
    "products": products, "inventory": inventory,
}
# The six as the main job reads them side by side (the lines with their orders).
SIX = ("customers", "customer metafields", "orders", "order lines, with their orders",
       "products", "inventory")


async def timed(base_url: str, stream: str, concurrency: int, ledger: str | None,
                start_at: float = 0.0) -> dict:
    """Read one stream; what it cost and what arrived."""
    token = os.environ["BENCHMARK_TOKEN"]
    async with BigCommerceClient(base_url, "sandbox", token, concurrency=concurrency,
                                 ledger=FileLedger(ledger) if ledger else None) as client:
        while time.time() < start_at:
            await asyncio.sleep(0.002)
        started = time.monotonic()
        seen = await READERS[stream](client)
        seconds = time.monotonic() - started
    return {"stream": stream, "requests": client.stats.requests, "records": sum(seen.values()),
            "distinct": len(seen), "doubled": sum(n - 1 for n in seen.values()),
            "seconds": seconds, "quota_429": client.stats.throttled_429,
            "started": started, "ended": started + seconds}


if __name__ == "__main__":
    name, url, ledger_path, start = sys.argv[1:5]
    result = asyncio.run(timed(url, name, 8, None if ledger_path == "-" else ledger_path,
                               float(start)))
    print(json.dumps(result))
