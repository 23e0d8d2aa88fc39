"""Extraction throughput against the sandbox, beside a one-request-at-a-time client.

The sandbox runs as its own process with a compressed quota (150 requests per 3 s) and 20-50 ms
of latency on every request. For customers (v3, 250 a page), orders (v2, 50 a page) and order
products (one request per order), each client reads the same stream from a fresh quota window.

The quota-bound time of N requests is `floor((N - 1) / quota) * window`: the time a client
with zero latency needs, since each window admits `quota` requests. `ratio` is that bound
divided by the time taken (1.0 is the physical limit; the target is 0.9).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import table
from resources.bigcommerce import BigCommerceClient
from sandbox.services import SandboxOptions, launch_api

QUOTA, WINDOW_MS = 150, 3_000
LATENCY_PLAN = """
seed = 1
[[fault]]
endpoint = "*"
kind = "latency"
min_ms = 20
max_ms = 50
"""
TOKEN = "benchmark-token"


@dataclass
class Measurement:
    stream: str
    client: str
    requests: int
    records: int
    distinct: int
    expected: int
    seconds: float
    quota_429: int

    def row(self) -> list[object]:
        bound = (self.requests - 1) // QUOTA * WINDOW_MS / 1000
        return [
            self.stream, self.client, self.requests, self.records,
            self.expected - self.distinct, f"{self.seconds:.1f}",
            f"{self.requests / self.seconds:.1f}", f"{self.records / self.seconds:,.0f}",
            f"{bound / self.seconds:.2f}", self.quota_429,
        ]


HEADER = ["stream", "client", "requests", "records", "lost", "seconds", "req/s", "records/s",
          "ratio to quota bound", "429s"]


def _stats(base_url: str, reset: bool = False) -> dict:
    url = f"{base_url}/_sandbox/stats" + ("/reset" if reset else "")
    request = urllib.request.Request(url, method="POST" if reset else "GET")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


async def _read(client: BigCommerceClient, stream: str, orders: int) -> tuple[int, set[int]]:
    ids: set[int] = set()
    records = 0
    if stream == "order products":
        async def keys():
            for order_id in range(100, 100 + orders):
                yield order_id

        async for _, items in client.fan_out(keys(), lambda k: f"v2/orders/{k}/products"):
            records += len(items)
            ids.update(item["id"] for item in items)
        return records, ids
    pages = (client.iter_v3("v3/customers", {}, limit=250) if stream == "customers"
             else client.iter_v2("v2/orders", {}, limit=50))
    async for page in pages:
        records += len(page.records)
        ids.update(record["id"] for record in page.records)
    return records, ids


def measure(base_url: str, stream: str, concurrency: int, expected: int | None,
            orders: int = 0) -> Measurement:
    time.sleep(WINDOW_MS / 1000 + 0.2)  # start from a fresh quota window
    _stats(base_url, reset=True)

    async def run() -> tuple[BigCommerceClient, int, set[int], float]:
        async with BigCommerceClient(base_url, "sandbox", TOKEN, concurrency=concurrency) as c:
            started = time.monotonic()
            records, ids = await _read(c, stream, orders)
            return c, records, ids, time.monotonic() - started

    client, records, ids, seconds = asyncio.run(run())
    label = "concurrent (8)" if concurrency > 1 else "one at a time"
    return Measurement(stream, label, client.stats.requests, records, len(ids),
                       expected if expected is not None else records, seconds,
                       _stats(base_url)["quota_429"])


def run(folder: Path) -> str:
    plan = folder / "latency.toml"
    plan.write_text(LATENCY_PLAN)
    shapes = {
        "customers": SandboxOptions(customers=250_000, orders=0, products=10),
        "orders": SandboxOptions(customers=1_000, orders=30_000, products=100),
    }
    rows: list[list[object]] = []
    for name, shape in shapes.items():
        options = SandboxOptions(**{**shape.__dict__, "quota": QUOTA, "window_ms": WINDOW_MS,
                                    "fault_plan": plan})
        print(f"  generating the sandbox for {name} …", flush=True)
        process, announced = launch_api(folder / name, options, TOKEN)
        try:
            streams = ["customers"] if name == "customers" else ["orders", "order products"]
            for stream in streams:
                expected = {"customers": shape.customers, "orders": shape.orders}.get(stream)
                for concurrency in (8, 1):
                    print(f"  {stream}, concurrency {concurrency} …", flush=True)
                    measurement = measure(announced["base_url"], stream, concurrency, expected,
                                          orders=600)
                    rows.append(measurement.row())
        finally:
            process.terminate()
            process.wait()
    return table(HEADER, rows)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        print(run(Path(scratch)))
