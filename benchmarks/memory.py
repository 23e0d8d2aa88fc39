"""Peak memory of an extraction as the data grows 10x: streaming into the raw zone vs. collecting.

Each measurement runs in a fresh process (`python -m benchmarks.memory probe ...`) that reads
every customer from the sandbox, either streaming page by page into a staged Parquet batch (what
the extraction assets do) or collecting every record in a list first (the naive approach), and
reports its peak resident memory above what the imports alone cost.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import table
from resources.bigcommerce import BigCommerceClient
from resources.raw_zone import RawZone, TableRef
from sandbox.services import SandboxOptions, launch_api

TOKEN = "benchmark-token"
SIZES = (20_000, 200_000)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _extract(base_url: str, mode: str, folder: Path) -> int:
    zone = RawZone(folder / "raw", folder / "warehouse.duckdb")
    batch = zone.stage(TableRef("bench", "customers"), run_id="memory-benchmark")
    collected: list[dict] = []
    async with BigCommerceClient(base_url, "sandbox", TOKEN) as client:
        async for page in client.iter_v3("v3/customers", {}, limit=250):
            if mode == "collect":
                collected.extend(page.records)
            else:
                for record in page.records:
                    batch.add(record["id"], batch.extracted_at, json.dumps(record))
    for record in collected:
        batch.add(record["id"], batch.extracted_at, json.dumps(record))
    batch.publish()
    return batch.rows


def probe(base_url: str, mode: str) -> None:
    baseline = _peak_mb()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        rows = asyncio.run(_extract(base_url, mode, Path(scratch)))
    print(json.dumps({"rows": rows, "baseline_mb": baseline, "peak_mb": _peak_mb(),
                      "seconds": time.monotonic() - started}))


def run(folder: Path) -> str:
    rows: list[list[object]] = []
    results: dict[tuple[str, int], dict] = {}
    for size in SIZES:
        options = SandboxOptions(customers=size, orders=0, products=10, quota=100_000,
                                 window_ms=1_000)
        print(f"  generating {size:,} customers …", flush=True)
        process, announced = launch_api(folder / str(size), options, TOKEN)
        try:
            for mode in ("stream", "collect"):
                probe_run = subprocess.run(
                    [sys.executable, "-m", "benchmarks.memory", "probe", announced["base_url"],
                     mode], capture_output=True, text=True, check=True)
                results[mode, size] = json.loads(probe_run.stdout.strip().splitlines()[-1])
        finally:
            process.terminate()
            process.wait()
    for mode, label in (("stream", "stream to staged Parquet"), ("collect", "collect, then write")):
        small, large = (results[mode, size] for size in SIZES)
        growth = [r["peak_mb"] - r["baseline_mb"] for r in (small, large)]
        rows.append([label, f"{small['rows']:,}", f"{growth[0]:.0f}", f"{large['rows']:,}",
                     f"{growth[1]:.0f}", f"{growth[1] / max(growth[0], 1):.1f}x"])
    header = ["approach", "customers (1x)", "peak MB above imports", "customers (10x)",
              "peak MB above imports", "growth"]
    return table(header, rows)


if __name__ == "__main__":
    if sys.argv[1:2] == ["probe"]:
        probe(sys.argv[2], sys.argv[3])
    else:
        with tempfile.TemporaryDirectory() as scratch:
            print(run(Path(scratch)))
