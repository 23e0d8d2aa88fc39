"""What the contract audits cost next to the write they protect.

Orders are the widest table (38 fields, money strings, RFC-2822 dates, a nested address). A
seeded set of sandbox orders is repeated with fresh ids up to 10k, 100k and 1M rows; each size
is staged and published the way an extraction does (structural parse, Parquet row groups,
atomic rename, views), and, on an identical staged batch, audited the way an extraction does
(typed frame, Pandera contract, GX suite, policy, quarantine move). The ratio is audit time
over stage+publish time. Great Expectations' import is paid once per step process and is
reported on its own line. What loading the code location costs is `benchmarks/load.py`'s.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from assets.bigcommerce import ORDERS
from assets.records import Parsed, parse_record
from benchmarks.report import table
from checks.audit import audit_batch
from checks.frame import frame_from_batch
from checks.gx_audit import gx_audit
from checks.pandera_audit import pandera_audit
from resources.raw_zone import RawZone
from sandbox.bigcommerce.data import Dataset, DatasetSize

SIZES = (10_000, 100_000, 1_000_000)
SEED_ORDERS = 10_000


def _orders(count: int, seed_orders: list[dict]) -> Iterator[dict]:
    """`count` realistic orders: the seed set repeated, each copy with its own id (made as
    they are staged, so the benchmark's own data does not crowd the audit's memory)."""
    return ({**seed_orders[i % len(seed_orders)], "id": 100 + i} for i in range(count))


def _stage(zone: RawZone, orders: Iterable[dict]):
    batch = zone.stage(ORDERS.ref, run_id="audit-benchmark")
    for record in orders:
        parsed = parse_record(record, ORDERS.shape)
        assert isinstance(parsed, Parsed)
        batch.add(parsed.pk, parsed.modified_at, parsed.json)
    return batch


def _timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def _measure(folder: Path, orders: Callable[[], Iterable[dict]]) -> dict[str, float]:
    zone = RawZone(folder / "publish" / "raw", folder / "publish" / "w.duckdb")
    write_s, batch = _timed(lambda: _stage(zone, orders()))
    publish_s, _ = _timed(lambda: (batch.seal(), zone.publish(batch)))

    audited = _stage(RawZone(folder / "audit" / "raw", folder / "audit" / "w.duckdb"), orders())
    contract = ORDERS.contract
    path = audited.seal_rows()
    frame_s, frame = _timed(lambda: frame_from_batch(path, contract))
    pandera_s, (_, typed) = _timed(partial(pandera_audit, contract, frame))
    gx_s, _ = _timed(partial(gx_audit, contract, typed))
    frame = typed = None  # free them before the full audit builds its own
    audit_s, audit = _timed(lambda: audit_batch(contract, audited, ORDERS.key, Counter(), {}))
    assert audit.verdict.outcome == "passed", audit.verdict.summary
    return {"stage_publish": write_s + publish_s, "audit": audit_s, "frame": frame_s,
            "pandera": pandera_s, "gx": gx_s}


def run(folder: Path) -> str:
    print(f"  generating {SEED_ORDERS:,} seed orders …", flush=True)
    seed = Dataset.generate(7, DatasetSize(customers=2_000, orders=SEED_ORDERS, products=200),
                            datetime.now(UTC)).orders
    warm_s, _ = _timed(lambda: _measure(folder / "warm", partial(_orders, 500, seed)))
    rows = []
    for size in SIZES:
        print(f"  {size:,} orders …", flush=True)
        figures = _measure(folder / str(size), partial(_orders, size, seed))
        rows.append([f"{size:,}", f"{figures['stage_publish']:.2f}", f"{figures['audit']:.2f}",
                     f"{size / figures['audit']:,.0f}",
                     f"{figures['audit'] / figures['stage_publish']:.2f}",
                     f"{figures['frame']:.2f} / {figures['pandera']:.2f} / {figures['gx']:.2f}"])
    audit = table(["orders", "stage+publish s", "audit s", "audit rows/s",
                   "audit / stage+publish", "frame / Pandera / GX s"], rows)
    return (f"{audit}\n\nfirst audit in a process (GX import and set-up), 500 orders: "
            f"{warm_s:.1f} s")

