"""Extraction throughput against the sandbox, beside a one-request-at-a-time client.

The sandbox runs as its own process with a compressed quota (150 requests per 3 s, BigCommerce's
real quota ten times faster) and 20-50 ms of latency on every request. Four measurements:

- orders (v2, 250 a page, id ranges side by side) and order lines, both ways: one paged
  sub-list per order (600 orders), and with their orders as the extraction reads them
  (`include=consignments.line_items`, 15,000 orders, 250 a request);
- customers while another app on the store spends 30% of every window (`shared_quota`);
- all six BigCommerce streams at once, each in its own process as the main job runs them,
  drawing from one quota ledger file, beside the same six pacing alone (no ledger).

The quota-bound time of N requests is `ceil(N / available) - 1` windows, where `available` is
what the store left our client per window (the quota, less what the other app took): the time
a client with zero latency needs. No real client has zero latency: the requests of the last
window still take `ceil(last / in flight)` round trips of at least the plan's 20 ms, so the
second bound adds them (with 8 in flight, a full last window of 150 costs 0.38 s of the 9 s of
600 requests). Each ratio is its bound over the time taken (1.0 is the physical limit; the
target is 0.95). Lost and doubled records are counted against the sandbox's data.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks import streams
from benchmarks.report import table
from sandbox.services import SandboxOptions, launch_api

QUOTA, WINDOW_MS = 150, 3_000
ROUND_TRIP_S = 0.020  # the plan's least latency: no answer comes sooner
TOKEN = "benchmark-token"
PLAN = """
seed = 1
[[fault]]
endpoint = "*"
kind = "latency"
min_ms = 20
max_ms = 50
"""
SHARED = '\n[[fault]]\nendpoint = "*"\nkind = "shared_quota"\nshare = 0.3\n'
HEADER = ["stream", "client", "requests", "records", "lost", "doubled", "seconds", "records/s",
          "ratio to quota bound", "ratio, 20 ms round trips", "429s"]


def _stats(base_url: str, reset: bool = False) -> dict:
    url = f"{base_url}/_sandbox/stats" + ("/reset" if reset else "")
    request = urllib.request.Request(url, method="POST" if reset else "GET")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def _available(stats: dict) -> float:
    """Requests per window the store left us: the quota less the other app's average take."""
    windows = max(1, len(stats.get("admitted_per_window", [])))
    return QUOTA - stats.get("other_app_requests", 0) / windows


def _row(result: dict, label: str, expected: int | None, available: float, in_flight: int,
         quota_429: int) -> list[object]:
    windows = max(0, math.ceil(result["requests"] / available) - 1)
    bound = windows * WINDOW_MS / 1000
    last = result["requests"] - windows * available
    with_trips = bound + math.ceil(last / in_flight) * ROUND_TRIP_S
    lost = (expected - result["distinct"]) if expected is not None else "-"
    seconds = result["seconds"]
    return [result["stream"], label, result["requests"], result["records"], lost,
            result["doubled"], f"{seconds:.1f}", f"{result['records'] / seconds:,.0f}",
            f"{bound / seconds:.2f}", f"{with_trips / seconds:.2f}", quota_429]


def _fresh_window(base_url: str) -> None:
    time.sleep(WINDOW_MS / 1000 + 0.2)
    _stats(base_url, reset=True)


def _one(base_url: str, stream: str, concurrency: int, expected: int | None) -> list[object]:
    _fresh_window(base_url)
    result = asyncio.run(streams.timed(base_url, stream, concurrency, None))
    stats = _stats(base_url)
    label = f"concurrent ({concurrency})" if concurrency > 1 else "one at a time"
    return _row(result, label, expected, _available(stats), concurrency, stats["quota_429"])


def _six_at_once(base_url: str, folder: Path, ledger: bool, expected: dict) -> list[list]:
    """Every stream in its own process, started together, as the main job's steps run."""
    _fresh_window(base_url)
    start_at = time.time() + 4  # every process has imported its modules by then
    path = str(folder / f"ledger-{time.time_ns()}.json") if ledger else "-"
    env = {**os.environ, "BENCHMARK_TOKEN": TOKEN}
    running = [subprocess.Popen([sys.executable, "-m", "benchmarks.streams", name, base_url,
                                 path, str(start_at)], stdout=subprocess.PIPE, text=True,
                                env=env) for name in streams.SIX]
    results = [json.loads(p.communicate(timeout=900)[0]) for p in running]
    stats = _stats(base_url)
    total = {"stream": "all six", "requests": sum(r["requests"] for r in results),
             "records": sum(r["records"] for r in results),
             "distinct": sum(r["distinct"] for r in results),
             "doubled": sum(r["doubled"] for r in results),
             "seconds": max(r["ended"] for r in results) - min(r["started"] for r in results)}
    label = "6 processes, one ledger" if ledger else "6 processes, each alone"
    known = sum(expected.get(r["stream"], r["distinct"]) for r in results)
    in_flight = 8 * len(results)
    return [_row(total, label, known, _available(stats), in_flight, stats["quota_429"])]


def _launch(folder: Path, name: str, plan: str, **shape: int):
    (folder / f"{name}.toml").write_text(plan)
    options = SandboxOptions(quota=QUOTA, window_ms=WINDOW_MS, fault_plan=folder / f"{name}.toml",
                             **shape)
    print(f"  generating the sandbox for {name} …", flush=True)
    return launch_api(folder / name, options, TOKEN)


def run(folder: Path) -> str:
    os.environ["BENCHMARK_TOKEN"] = TOKEN
    rows: list[list[object]] = []
    scenarios = [
        ("orders", PLAN, {"customers": 1_000, "orders": 150_000, "products": 100},
         [("orders", 150_000), ("order lines, one sub-list per order", None),
          ("order lines, with their orders", None)]),
        ("customers", PLAN + SHARED, {"customers": 150_000, "orders": 0, "products": 10},
         [("customers", 150_000)]),
    ]
    for name, plan, shape, measured in scenarios:
        process, announced = _launch(folder, name, plan, **shape)
        try:
            for stream, expected in measured:
                for concurrency in (8, 1):
                    print(f"  {stream}, concurrency {concurrency} …", flush=True)
                    rows.append(_one(announced["base_url"], stream, concurrency, expected))
        finally:
            process.terminate()
            process.wait()
    shape = {"customers": 40_000, "orders": 80_000, "products": 4_000}
    process, announced = _launch(folder, "six streams", PLAN, **shape)
    expected = {"customers": 40_000, "orders": 80_000, "products": 4_000}
    try:
        for ledger in (True, False):
            print(f"  six streams at once, {'one ledger' if ledger else 'alone'} …", flush=True)
            rows += _six_at_once(announced["base_url"], folder, ledger, expected)
    finally:
        process.terminate()
        process.wait()
    return table(HEADER, rows)
