"""What lineage costs a full pipeline run: to the JSON-lines file, and to a real Marquez over
HTTP (with its tag API), each beside lineage disabled. Marquez's events go as the definitions
send them: the steps write them to the outbox, and the shipment after the run sends them; its
time is a column of its own, since no step waits for it.

The whole asset graph (eight extractions with their audits, `dbt build`, the notification
events) runs in process through Dagster's `materialize`, against the sandbox API and an
embedded PostgreSQL at one size, alternating the modes so drift on a shared machine hits all
alike. Each run starts from an empty data folder, so every run is a first (full) load. Marquez
is `python3 run.py marquez`'s (sandbox/marquez), started once for the benchmark and warmed up
by one untimed run; where it cannot start (no jar: docs/marquez.md) its row says why instead of
a figure.

In production Marquez runs on a machine of its own. Here it shares the machine, so that its
work (storing each event's fields, facets and edges) is not counted as the client's cost,
Marquez's JVM and its PostgreSQL run on the last core and everything else (the run, dbt, the
sandbox API, the source PostgreSQL) on the others, in every mode alike (`_split_cores`); on a
single core nothing is pinned and the table says so.
"""

from __future__ import annotations

import os
import socket
import statistics
import time
from pathlib import Path

import dagster as dg
import psutil

from assets import defs as asset_defs
from benchmarks.report import table
from lineage.dagster_run import ship_finished
from resources.bigcommerce import BigCommerceResource
from resources.lineage import LineageResource
from resources.postgres import PostgresResource
from resources.raw_zone import RawZoneResource
from sandbox.bigcommerce.app import SandboxConfig
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.server import running_sandbox
from sandbox.marquez import Marquez, MarquezError
from sandbox.marquez import start as start_marquez
from sandbox.postgres import start_postgres

SIZE = 200
ROUNDS = 3


def _resources(folder: Path, api, postgres, lineage: LineageResource) -> dict:
    from resources.dbt_cli import transformer_cli

    return {
        "bigcommerce": BigCommerceResource(store_hash=api.store_hash,
                                           access_token=api.access_token, base_url=api.base_url),
        "wise_postgres": PostgresResource(url=postgres.reader_url),
        "raw_zone": RawZoneResource(root=str(folder / "raw"),
                                    warehouse=str(folder / "warehouse.duckdb")),
        "dbt": transformer_cli("local"),
        "lineage": lineage,
    }


def _run(folder: Path, api, postgres, lineage: LineageResource) -> tuple[float, float, int]:
    """(the run's seconds, the shipment's seconds after it, events written)."""
    resources = _resources(folder, api, postgres, lineage)
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    result = dg.materialize(list(asset_defs().assets), resources=resources, instance=instance)
    seconds = time.perf_counter() - started
    assert result.success
    shipment = ship_finished(lineage, instance)
    assert shipment is None or (shipment.kept, shipment.rejected) == (0, 0), shipment.summary()
    events = folder / "lineage" / "events.jsonl"
    return (seconds, shipment.seconds if shipment else 0.0,
            len(events.read_text().splitlines()) if events.exists() else 0)


def _lineage(mode: str, data: Path, marquez_url: str | None) -> LineageResource:
    if mode == "disabled":
        return LineageResource(disabled=True)
    file_path = str(data / "lineage" / "events.jsonl")  # counted in both modes
    # Marquez's own timeout, not the 2 s default: what is measured is a working Marquez. As
    # the definitions bind it, through the outbox: the run writes, the shipment sends after it.
    return (LineageResource(file_path=file_path) if mode == "file" else
            LineageResource(file_path=file_path, url=marquez_url, timeout_s=30,
                            outbox=str(data / "lineage" / "outbox")))


def _split_cores() -> tuple[set[int], set[int]] | None:
    """(the run's cores, Marquez's core), or None on a single core."""
    cores = sorted(os.sched_getaffinity(0))
    return (set(cores[:-1]), {cores[-1]}) if len(cores) > 1 else None


def run(folder: Path) -> str:
    split = _split_cores()
    marquez, why_not = None, ""
    try:
        if split:  # processes inherit the mask of the thread that starts them
            os.sched_setaffinity(0, split[1])
        marquez = start_marquez(folder / "marquez", port=_free_port(), admin_port=_free_port())
    except MarquezError as error:
        why_not = str(error)
    finally:
        if split:
            os.sched_setaffinity(0, split[0])
    postgres = start_postgres(folder / "pg", size=SIZE)
    modes = ["disabled", "file", *(["marquez"] if marquez else [])]
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    marquez_cpu: dict[str, list[float]] = {mode: [] for mode in modes}
    shipped: dict[str, list[float]] = {mode: [] for mode in modes}
    events = 0
    try:
        config = SandboxConfig(access_token="benchmark-token", size=DatasetSize.scaled(SIZE),
                               quota=100_000)
        with running_sandbox(config) as api:
            if marquez is not None:
                # A production Marquez has been up for days: one untimed run first, so no
                # timed one pays its JVM's warm-up (the first cold run took 31.8 s for the
                # dbt step against 24.0 s warm, 2026-12-03).
                print("  warm-up run into Marquez (not timed) …", flush=True)
                _run(folder / "warm-up", api, postgres,
                     _lineage("marquez", folder / "warm-up", marquez.url))
            for round_number in range(ROUNDS):
                for mode in modes:
                    data = folder / f"{mode}-{round_number}"
                    lineage = _lineage(mode, data, marquez.url if marquez else None)
                    print(f"  round {round_number + 1}, lineage {mode} …", flush=True)
                    before = _cpu_seconds(marquez)
                    seconds, shipping, count = _run(data, api, postgres, lineage)
                    times[mode].append(seconds)
                    shipped[mode].append(shipping)
                    marquez_cpu[mode].append(_cpu_seconds(marquez) - before)
                    events = max(events, count)
    finally:
        postgres.server.cleanup()
        if marquez is not None:
            marquez.stop()
    off = statistics.median(times["disabled"])
    labels = {"file": "to the JSON-lines file",
              "marquez": "to the file and Marquez (outbox, HTTP after the run)"}
    cpu = {mode: f"{statistics.median(marquez_cpu[mode]):.1f}" if marquez else ""
           for mode in modes}
    rows = [["disabled", f"{off:.1f}", "0", "1.00", "-", cpu["disabled"]]]
    for mode in modes[1:]:
        on = statistics.median(times[mode])
        after = f"{statistics.median(shipped[mode]):.1f}" if mode == "marquez" else "-"
        rows.append([labels[mode], f"{on:.1f}", f"{events:,}", f"{on / off:.3f}", after,
                     cpu[mode]])
    if marquez is None:
        rows.append([labels["marquez"], "not run", "", why_not[:120], "", ""])
    cores = (f"the run on cores {sorted(split[0])}, Marquez and its PostgreSQL on core "
             f"{sorted(split[1])}" if split else "one core: Marquez shares it with the run")
    return (f"full pipeline at size {SIZE} (median of {ROUNDS} runs each, alternated; {cores}; "
            "Marquez's JVM's and PostgreSQL's CPU seconds during each run)\n\n"
            + table(["lineage", "run s", "events", "ratio to disabled",
                     "shipped after the run s", "Marquez CPU s"], rows))


def _cpu_seconds(marquez: Marquez | None) -> float:
    """CPU time used so far by Marquez's JVM and its PostgreSQL (the postmaster and its
    backends, which Marquez's connection pool keeps open)."""
    if marquez is None:
        return 0.0
    roots = [marquez.pid]
    postmaster = marquez.folder / "postgres" / "postmaster.pid"
    if postmaster.exists():
        roots.append(int(postmaster.read_text().split()[0]))
    total = 0.0
    for root in roots:
        try:
            processes = [psutil.Process(root)]
            processes += processes[0].children(recursive=True)
        except psutil.Error:
            continue
        for process in processes:
            try:
                used = process.cpu_times()
            except psutil.Error:  # a backend that just exited
                continue
            total += used.user + used.system
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
