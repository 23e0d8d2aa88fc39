"""`python3 run.py bench scale`: the command runs at a tiny size and ends with its one-line
summary; the memory sampler it reads steps by sees a child's memory; the sandbox's repeated
orders (how it serves a million) are whole orders with ids of their own. No timing is asserted."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks.scale_rss import TreeSampler
from sandbox.bigcommerce.app import SandboxConfig
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.server import running_sandbox

REPO = Path(__file__).resolve().parents[1]
LAST_LINE = re.compile(r"peak_rss_mb=\d+ seconds=\d+\.\d orders=\d+")


def test_the_sampler_sees_a_child_process_and_its_memory():
    # 150 MB, every page touched so that it is resident, held long enough to be sampled.
    hold = ("import time; block = bytearray(150 * 2**20); block[::4096] = b'x' * (150 * 256); "
            "time.sleep(1.5)")
    with TreeSampler(interval=0.05) as sampler:
        child = subprocess.Popen([sys.executable, "-c", hold])
        child.wait()
        time.sleep(0.1)
    assert sampler.command[child.pid].startswith(sys.executable)
    assert sampler.step_peak_mb(child.pid) >= 150
    start, end = sampler.lifetime(child.pid)
    assert end > start
    assert sampler.cpu_between(child.pid, start, end) >= 0


def _get(url: str, token: str):
    request = urllib.request.Request(url, headers={"X-Auth-Token": token,
                                                   "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


def test_repeated_orders_have_ids_of_their_own_and_are_served_like_drawn_ones():
    config = SandboxConfig(access_token="t", size=DatasetSize(customers=20, orders=500,
                                                              products=10), drawn_orders=30)
    with running_sandbox(config) as api:
        data = api.dataset
        assert [order["id"] for order in data.orders] == list(range(100, 600))
        lines = [line for oid in range(100, 600) for line in data.order_products[oid]]
        assert len({line["id"] for line in lines}) == len(lines)
        assert all(line["order_id"] == oid for oid in range(100, 600)
                   for line in data.order_products[oid])
        assert all(option["order_product_id"] == line["id"]
                   for line in lines for option in line["product_options"])
        page = _get(f"{api.store_url}/v2/orders?page=2&limit=250&sort=id:asc", "t")
        assert [order["id"] for order in page] == list(range(350, 600))
        assert page[-1]["products"]["url"].endswith("/v2/orders/599/products")
        served = _get(page[-1]["products"]["url"], "t")
        assert served == data.order_products[599]
        own = ("id", "products", "coupons", "shipping_addresses")
        drawn = data.orders[499 % 30]  # order 599 repeats drawn order 19, served as order 119
        assert {k: v for k, v in page[-1].items() if k not in own} == {
            k: v for k, v in drawn.items() if k not in own}


def test_scale_refuses_fewer_than_two_orders():
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["scale", "--orders", "1"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_bench_scale_runs_and_ends_with_the_summary_line(tmp_path):
    """The real command, as `run.py bench` starts it, at 20 orders (start-up dominates), with
    one engine: each engine's run is the same code, and two take twice as long."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "scale", "--orders", "20", "--engine", "warehouse",
         "--keep", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    assert lines[-1].endswith(" orders=20")
    rows = [row.split("|") for row in lines if row.startswith("| ")]
    steps = {cells[2].strip() for cells in rows if cells[1].strip() == "warehouse"}
    assert {"src_order", "src_order_product", "src_customer", "transformer"} <= steps, steps
