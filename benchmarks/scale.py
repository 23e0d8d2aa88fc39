"""`python3 run.py bench scale --orders N`: the order slice end to end, once per audit engine.

extract -> audit -> publish -> `dbt build` of orders, their lines and the customers, metafields
and products they reference (the main job's `sync_order`, `benchmarks.scale_job`), through
Dagster's `execute_job` on the multiprocess executor and a real instance, on the local default
(Parquet raw zone, DuckDB, dbt's local target), from an empty data folder each time.

The sandbox API runs as its own process with the usual proportions (N orders, N/2 customers,
N/20 products) and a quota no client reaches, so the figures are the pipeline's; it generates
its data once and serves both runs. Past 20,000 it draws 20,000 orders and serves the rest as
copies with ids of their own (`sandbox/bigcommerce/repeat.py`): drawing a million would take it
two minutes and 9 GB, on the machine the pipeline is measured on. Its start-up (generating the
records) is reported on its own line, not in the run; the CPU it uses during each extraction is
reported beside it, so a phase the stand-in holds back says so.

The run is repeated per `GOV_AUDIT_ENGINE` (`memory`, today's pandas audit, then `warehouse`);
the table says which engine each row asked for: an engine the code does not know yet is
ignored by `checks`, and that row shows the default audit. Per step: wall time of each phase,
peak resident memory of the step's processes in each phase (`benchmarks.scale_rss`). The last
line is the last engine's run: `peak_rss_mb=<int> seconds=<float> orders=<int>`.

Not in the default `run.py bench` list: at 100k orders one pass takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from benchmarks.report import machine, table
from benchmarks.scale_job import Step, scale_job, steps_of
from benchmarks.scale_rss import TreeSampler, cpu_seconds
from cli.instance import dagster_instance
from resources.environment import DataDir
from resources.transformer import prepare_manifest
from sandbox.services import SandboxOptions, launch_api

ENGINES = ("memory", "warehouse")
TOKEN = "benchmark-token"
QUOTA, WINDOW_MS = 1_000_000_000, 1_000  # no client comes near it: the sandbox never paces
DRAWN_ORDERS = 20_000


@dataclass
class Run:
    engine: str
    seconds: float
    steps: dict[str, Step]
    sampler: TreeSampler
    sandbox_pid: int
    sandbox_cpu_s: float
    requests: dict[str, int]
    succeeded: bool
    log: Path

    def peak_mb(self, step: Step, start: float | None, end: float | None) -> float | None:
        if step.pid is None or start is None or end is None:
            return None
        return self.sampler.peak_mb(step.pid, start, end)

    def step_peak_mb(self, step: Step) -> float:
        return self.sampler.step_peak_mb(step.pid) if step.pid else 0.0

    def dbt_seconds(self, step: Step) -> float | None:
        """How long the step's `dbt build` process lived, as the sampler saw it (the step also
        runs `dbt --version` first, and reads the built tables back after)."""
        if step.pid is None:
            return None
        spans = [self.sampler.lifetime(p) for p in self.sampler.tree(step.pid)
                 if " build" in self.sampler.command.get(p, "")
                 and "dbt" in self.sampler.command.get(p, "")]
        spans = [s for s in spans if s]
        return max(e for _, e in spans) - min(s for s, _ in spans) if spans else None

    def sandbox_share(self, start: float | None, end: float | None) -> str:
        """The sandbox's CPU over a phase, in % of one core: near 100 it is what holds the
        phase back (it serves from one event loop)."""
        if start is None or end is None or end <= start:
            return "-"
        return f"{100 * self.sampler.cpu_between(self.sandbox_pid, start, end) / (end - start):.0f}"


def _sandbox_stats(base_url: str, reset: bool = False) -> dict:
    url = f"{base_url}/_sandbox/stats" + ("/reset" if reset else "")
    request = urllib.request.Request(url, method="POST" if reset else "GET")
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


@contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Dagster's engine log, dbt's console and every step's output go to a file; the tables
    stay readable. Child processes inherit the descriptors, so this covers them too."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, target in zip(saved, (1, 2), strict=True):
            os.dup2(fd, target)
            os.close(fd)


def run_once(folder: Path, api: dict, sandbox_pid: int, engine: str, max_concurrent: int,
             guard_mb: float) -> Run:
    """One `sync_order` run from an empty data folder with `GOV_AUDIT_ENGINE=engine`."""
    data = DataDir(folder.resolve())
    os.environ.update({
        "GOV_DATA_DIR": str(data.root), "GOV_AUDIT_ENGINE": engine,
        "BIGCOMMERCE_API_URL": api["base_url"], "BIGCOMMERCE_STORE_HASH": api["store_hash"],
        "BIGCOMMERCE_ACCESS_TOKEN": TOKEN,
    })
    run_config = {
        "execution": {"config": {"multiprocess": {"max_concurrent": max_concurrent}}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    data.root.mkdir(parents=True, exist_ok=True)
    log = data.root / "run.log"
    _sandbox_stats(api["base_url"], reset=True)
    cpu_before = cpu_seconds(sandbox_pid) or 0.0
    sampler = TreeSampler(guard_mb=guard_mb, spare=frozenset({sandbox_pid}))
    with dagster_instance(data) as instance, _output_to(log), sampler:
        started = time.perf_counter()
        result = dg.execute_job(dg.reconstructable(scale_job), instance, run_config=run_config)
        seconds = time.perf_counter() - started
        entries = instance.all_logs(result.run_id)
    requests = _sandbox_stats(api["base_url"])["requests_by_stream"]
    return Run(engine, seconds, steps_of(entries), sampler, sandbox_pid,
               (cpu_seconds(sandbox_pid) or 0.0) - cpu_before, requests, result.success, log)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _span(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else end - start


def step_rows(run: Run) -> list[list[str]]:
    rows = []
    for step in sorted(run.steps.values(), key=lambda s: (not s.extraction, s.started or 0)):
        if step.extraction:
            phases = [(step.started, step.read_done), (step.read_done, step.audited),
                      (step.audited, step.published)]
            times = [_s(_span(*p)) for p in phases] + ["-"]
            peaks = [_mb(run.peak_mb(step, *p)) for p in phases] + ["-"]
            share = run.sandbox_share(*phases[0])
        else:
            times = ["-", "-", "-", _s(run.dbt_seconds(step))]
            peaks = ["-", "-", "-", _mb(run.step_peak_mb(step))]
            share = "-"
        rows.append([run.engine, step.key, "-" if step.rows is None else f"{step.rows:,}",
                     _s(_span(step.launched, step.started)), *times,
                     _s(_span(step.started, step.ended)), *peaks, _mb(run.step_peak_mb(step)),
                     share])
    return rows


STEP_HEADER = ["engine asked", "step", "rows", "start-up s", "extract s", "audit s",
               "publish s", "dbt build s", "step s", "extract MB", "audit MB", "publish MB",
               "dbt build MB", "step peak MB", "sandbox CPU % in extract"]


def summary_row(run: Run, orders: int) -> list[str]:
    """Phases summed over the extraction steps (they run side by side), peaks their maximum."""
    extractions = [s for s in run.steps.values() if s.extraction]
    others = [s for s in run.steps.values() if not s.extraction]
    phases = [("started", "read_done"), ("read_done", "audited"), ("audited", "published")]
    times = [sum(_span(getattr(s, a), getattr(s, b)) or 0 for s in extractions)
             for a, b in phases]
    peaks = [max((run.peak_mb(s, getattr(s, a), getattr(s, b)) or 0 for s in extractions),
                 default=0) for a, b in phases]
    dbt = others[0] if others else None
    return [run.engine, f"{orders:,}", f"{run.seconds:.1f}", *(f"{t:.1f}" for t in times),
            _s(run.dbt_seconds(dbt) if dbt else None), *(_mb(p) for p in peaks),
            _mb(run.step_peak_mb(dbt) if dbt else None), _mb(peak_of(run)),
            f"{run.sandbox_cpu_s:.1f}"]


SUMMARY_HEADER = ["engine asked", "orders", "end to end s", "extract s (sum)", "audit s (sum)",
                  "publish s (sum)", "dbt build s", "extract MB", "audit MB", "publish MB",
                  "dbt build MB", "peak of any step MB", "sandbox CPU s"]


def peak_of(run: Run) -> float:
    return max((run.step_peak_mb(s) for s in run.steps.values()), default=0.0)


def _failures(run: Run) -> str:
    failed = [s.key for s in run.steps.values() if not s.succeeded]
    why = f", {run.sampler.stopped_for_memory}" if run.sampler.stopped_for_memory else ""
    return f"{run.engine}: the run failed (steps {failed}{why}); see {run.log}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="run.py bench scale", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the sandbox")
    parser.add_argument("--engine", action="append", choices=ENGINES,
                        help="audit engine to run (repeatable; default: memory, then warehouse)")
    parser.add_argument("--max-concurrent", type=int, default=4,
                        help="steps at once (the main job's default)")
    parser.add_argument("--guard-mb", type=float, default=2_000,
                        help="stop a run when the machine has less than this available "
                             "(it is shared); 0 turns the guard off")
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the data folders here and keep them (default: a temporary "
                             "folder, removed)")
    args = parser.parse_args(argv)
    if args.orders < 2:
        parser.error("--orders must be at least 2 (one customer)")
    print(f"machine: {machine()}", flush=True)
    prepare_manifest()
    with tempfile.TemporaryDirectory() as scratch:
        return _bench(args, args.keep or Path(scratch))


def _bench(args: argparse.Namespace, folder: Path) -> int:
    orders, engines = args.orders, args.engine or list(ENGINES)
    drawn = min(orders, DRAWN_ORDERS)
    options = SandboxOptions(size=orders // 2, orders=orders, quota=QUOTA, window_ms=WINDOW_MS,
                             drawn_orders=drawn if drawn < orders else 0)
    started = time.perf_counter()
    process, api = launch_api(folder / "sandbox", options, TOKEN, ready_timeout_s=900)
    generated = time.perf_counter() - started
    runs: list[Run] = []
    try:
        sandbox_mb = _status_mb(process.pid)
        repeated = f" ({drawn:,} drawn, the rest repeated)" if drawn < orders else ""
        print(f"sandbox API: {orders:,} orders{repeated}, {orders // 2:,} customers generated "
              f"and indexed in {generated:.1f} s ({sandbox_mb:,.0f} MB resident)", flush=True)
        for engine in engines:
            print(f"  {engine}: running {orders:,} orders …", flush=True)
            runs.append(run_once(folder / engine, api, process.pid, engine, args.max_concurrent,
                                 args.guard_mb))
    finally:
        process.terminate()
        process.wait()
    print("\n" + table(STEP_HEADER, [row for run in runs for row in step_rows(run)]))
    print("\n" + table(SUMMARY_HEADER, [summary_row(run, orders) for run in runs]))
    for run in runs:
        served = ", ".join(f"{k} {v:,}" for k, v in sorted(run.requests.items()))
        print(f"{run.engine}: sandbox served {served} requests", flush=True)
    failed = [run for run in runs if not run.succeeded]
    for run in failed:
        print(_failures(run), file=sys.stderr)
    last = runs[-1]
    print(f"peak_rss_mb={round(peak_of(last))} seconds={last.seconds:.1f} orders={orders}")
    return 1 if failed else 0


def _status_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in text.splitlines()
                if line.startswith("VmRSS:")) / 1024


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
