"""Complete reads against the sandbox's real-API behaviours, over loopback HTTP.

Each test turns on one behaviour BigCommerce really has (a quota shared with other apps and
with our other processes, records modified while we read, orders deleted between two reads,
orders with more lines than a page) and checks that every record arrives exactly once, that
nothing is lost silently, and that the quota is not spent on 429s.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime

from resources.bigcommerce import BigCommerceClient, reads
from resources.bigcommerce.ledger import FileLedger
from resources.environment import REPO_ROOT
from sandbox.bigcommerce.app import SandboxConfig
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.faults import FaultPlan
from sandbox.bigcommerce.server import running_sandbox

TOKEN = "reads-token"


def config(*faults: dict, orders: int = 1_200, customers: int = 600, **overrides) -> SandboxConfig:
    plan = FaultPlan.from_dict({"seed": 5, "fault": list(faults)})
    size = DatasetSize(customers=customers, orders=orders, products=40)
    return SandboxConfig(access_token=TOKEN, size=size, fault_plan=plan, **overrides)


def client_for(handle, **options) -> BigCommerceClient:
    return BigCommerceClient(handle.base_url, handle.store_hash, TOKEN, backoff_base_s=0.01,
                             backoff_cap_s=0.2, **options)


def now_bounds() -> tuple[dict, dict]:
    """The run's start as the v2 and v3 upper bounds."""
    start = datetime.now(UTC).replace(microsecond=0)
    return ({"max_date_modified": format_datetime(start)},
            {"date_modified:max": start.strftime("%Y-%m-%dT%H:%M:%SZ")})


async def read_orders(handle, **options) -> tuple[Counter, BigCommerceClient]:
    seen: Counter = Counter()
    v2, _ = now_bounds()
    async with client_for(handle, **options) as client:
        async for records in reads.keyset(client, reads.V2_ORDERS, v2):
            seen.update(r["id"] for r in records)
    return seen, client


def test_orders_are_read_250_a_page_each_once():
    """1,200 orders: a first page, one probe for the highest id, then ranges of 250."""
    with running_sandbox(config()) as handle:
        seen, client = asyncio.run(read_orders(handle))
        requests = handle.stats()["requests_by_stream"]["orders"]
    assert seen == Counter(o["id"] for o in handle.dataset.orders)
    # 5 pages of data (at most one short page per range) + the probe: far from 24 pages of 50.
    assert requests <= 5 + 1 + client.concurrency


def test_order_lines_are_paged_to_the_end_and_a_deleted_order_is_named():
    plan = ({"kind": "many_lines", "endpoint": "orders", "fraction": 0.05, "lines": 260},
            {"kind": "deleted_orders", "endpoint": "order_products", "fraction": 0.05})
    with running_sandbox(config(*plan, orders=200)) as handle:

        async def run():
            lines, gone = Counter(), []

            async def ids():
                for order in handle.dataset.orders:
                    yield order["id"]

            async with client_for(handle) as client:
                async for key, records in reads.sublists(
                        client, ids(), lambda k: f"v2/orders/{k}/products"):
                    if records is None:
                        gone.append(key)
                    else:
                        lines[key] = len(records)
                        assert len({r["id"] for r in records}) == len(records)
            return lines, gone, client

        lines, gone, client = asyncio.run(run())
        stats = handle.stats()
    assert max(lines.values()) == 260, "no order had more lines than one page holds"
    assert gone, "the plan deleted no order"
    assert set(lines) | set(gone) == {o["id"] for o in handle.dataset.orders}
    assert not set(lines) & set(gone)
    assert sorted(client.stats.gone) == sorted(f"v2/orders/{k}/products (HTTP 404)" for k in gone)
    assert stats["quota_429"] == 0


def test_a_429_that_still_reports_requests_left_is_waited_out():
    """Another app spends 30% of every window: the 429s say `Requests-Left` > 0, and the client
    waits for the reset instead of firing the rest (the old client sent 51 in 0.01 s)."""
    shared = {"kind": "shared_quota", "share": 0.3}
    with running_sandbox(config(shared, quota=20, window_ms=400)) as handle:
        seen, client = asyncio.run(read_orders(handle))
        stats = handle.stats()
    assert seen == Counter(o["id"] for o in handle.dataset.orders)
    windows = len(stats["admitted_per_window"])
    assert stats["quota_429"] <= windows, f"{stats['quota_429']} 429s in {windows} windows"
    assert client.pacer.quota_429 == client.stats.throttled_429 == stats["quota_429"]
    assert stats["max_admitted_in_window"] <= 20


def test_records_modified_during_the_read_never_cost_an_untouched_one():
    """Each page served modifies two orders and two customers; everything untouched since the
    run's start arrives exactly once, and nothing arrives twice."""
    plan = ({"kind": "modify_during_read", "endpoint": "orders", "per_request": 2},
            {"kind": "modify_during_read", "endpoint": "customers", "per_request": 2})
    with running_sandbox(config(*plan, orders=2_000, customers=1_500)) as handle:
        before = {"orders": {o["id"] for o in handle.dataset.orders},
                  "customers": {c["id"] for c in handle.dataset.customers}}

        async def run():
            seen = {"orders": Counter(), "customers": Counter()}
            v2, v3 = now_bounds()
            time.sleep(1.1)  # the bound is whole seconds: modifications must fall after it
            async with client_for(handle, concurrency=4) as client:
                async for records in reads.keyset(client, reads.V2_ORDERS, v2):
                    seen["orders"].update(r["id"] for r in records)
                async for records in reads.created_ranges(client, "v3/customers", v3, limit=100):
                    seen["customers"].update(r["id"] for r in records)
            return seen

        seen = asyncio.run(run())
        modified = handle.stats()["modified"]
    for stream, ids in before.items():
        changed = set(modified[stream])
        assert changed, f"the plan modified no {stream}"
        assert max(seen[stream].values()) == 1, f"a {stream} record arrived twice"
        assert ids - changed <= set(seen[stream]), f"untouched {stream} were skipped"


LEDGER_READER = """
import asyncio, json, sys, time
from resources.bigcommerce import BigCommerceClient, reads
from resources.bigcommerce.ledger import FileLedger
base_url, store, token, ledger, start_at = sys.argv[1:6]
async def main():
    ledger_ = FileLedger(ledger) if ledger != "-" else None
    async with BigCommerceClient(base_url, store, token, ledger=ledger_) as client:
        while time.time() < float(start_at):
            await asyncio.sleep(0.005)
        count = 0
        async for records in reads.keyset(client, reads.V2_ORDERS, {}, limit=50):
            count += len(records)
        print(json.dumps({"records": count, "429": client.stats.throttled_429}))
asyncio.run(main())
"""


def _read_in_processes(handle, ledger: str, processes: int = 3) -> list[dict]:
    start_at = time.time() + 2.5  # every process imports first, then they start together
    args = [handle.base_url, handle.store_hash, TOKEN, ledger, str(start_at)]
    running = [subprocess.Popen([sys.executable, "-c", LEDGER_READER, *args], cwd=REPO_ROOT,
                                stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    return [json.loads(p.communicate(timeout=120)[0]) for p in running]


def test_processes_sharing_a_ledger_share_the_store_quota_without_429s(tmp_path):
    """Three processes read orders at once, 50 a page. Pacing alone, each believes the whole
    quota is its own and they collide; through one ledger file they draw from one budget."""
    with running_sandbox(config(orders=1_500, quota=10, window_ms=500)) as handle:
        alone = _read_in_processes(handle, "-")
        collided = handle.stats()["quota_429"]
        time.sleep(0.6)
        handle.reset_stats()
        shared = _read_in_processes(handle, str(tmp_path / "sandbox.json"))
        stats = handle.stats()
    assert [r["records"] for r in alone + shared] == [1_500] * 6
    assert collided > 0, "the control run never collided: the test proves nothing"
    assert stats["quota_429"] == 0
    assert stats["max_admitted_in_window"] <= 10


def test_a_ledger_left_by_a_killed_process_does_not_shrink_the_quota(tmp_path):
    """In-flight entries of a process that is gone are dropped on the next transaction."""
    path = tmp_path / "store.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    with FileLedger(path).transaction() as state:
        state.in_flight = {str(n): [int(dead.stdout), time.monotonic()] for n in range(1, 9)}
        state.quota, state.left, state.sent = 10, 0, 8
    with FileLedger(path).transaction() as state:
        assert state.in_flight == {}
