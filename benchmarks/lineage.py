"""What lineage costs a full pipeline run: lineage to the JSON-lines file vs. disabled.

The whole asset graph (eight extractions with their audits, `dbt build`, the notification
events) runs in process through Dagster's `materialize`, against the sandbox API and an
embedded PostgreSQL at one size, alternating the two modes so drift on a shared machine hits
both alike. Each run starts from an empty data folder, so every run is a first (full) load.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import dagster as dg

from assets import defs as asset_defs
from benchmarks.report import table
from resources.bigcommerce import BigCommerceResource
from resources.lineage import LineageResource
from resources.postgres import PostgresResource
from resources.raw_zone import RawZoneResource
from resources.transformer import dbt_executable, transformer_project
from sandbox.bigcommerce.app import SandboxConfig
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.server import running_sandbox
from sandbox.postgres import start_postgres

SIZE = 200
ROUNDS = 2


def _resources(folder: Path, api, postgres, lineage: LineageResource) -> dict:
    from dagster_dbt import DbtCliResource

    return {
        "bigcommerce": BigCommerceResource(store_hash=api.store_hash,
                                           access_token=api.access_token, base_url=api.base_url),
        "wise_postgres": PostgresResource(url=postgres.reader_url),
        "raw_zone": RawZoneResource(root=str(folder / "raw"),
                                    warehouse=str(folder / "warehouse.duckdb")),
        "dbt": DbtCliResource(project_dir=transformer_project(), target="local",
                              dbt_executable=dbt_executable()),
        "lineage": lineage,
    }


def _run(folder: Path, api, postgres, lineage: LineageResource) -> tuple[float, int]:
    resources = _resources(folder, api, postgres, lineage)
    started = time.perf_counter()
    result = dg.materialize(list(asset_defs().assets), resources=resources)
    seconds = time.perf_counter() - started
    assert result.success
    events = folder / "lineage" / "events.jsonl"
    return seconds, len(events.read_text().splitlines()) if events.exists() else 0


def run(folder: Path) -> str:
    postgres = start_postgres(folder / "pg", size=SIZE)
    times: dict[str, list[float]] = {"disabled": [], "file": []}
    events = 0
    try:
        config = SandboxConfig(access_token="benchmark-token", size=DatasetSize.scaled(SIZE),
                               quota=100_000)
        with running_sandbox(config) as api:
            for round_number in range(ROUNDS):
                for mode in ("disabled", "file"):
                    data = folder / f"{mode}-{round_number}"
                    lineage = (LineageResource(disabled=True) if mode == "disabled" else
                               LineageResource(file_path=str(data / "lineage" / "events.jsonl")))
                    print(f"  round {round_number + 1}, lineage {mode} …", flush=True)
                    seconds, count = _run(data, api, postgres, lineage)
                    times[mode].append(seconds)
                    events = max(events, count)
    finally:
        postgres.server.cleanup()
    off, on = (statistics.median(times[mode]) for mode in ("disabled", "file"))
    rows = [["disabled", f"{off:.1f}", "0", "1.00"],
            ["to the JSON-lines file", f"{on:.1f}", f"{events:,}", f"{on / off:.3f}"]]
    return (f"full pipeline at size {SIZE} (median of {ROUNDS} runs each, alternated)\n\n"
            + table(["lineage", "run s", "events", "ratio to disabled"], rows))
