"""The one place that decides where the platform runs and where it writes.

`GOV_ENV` picks the environment: `local` (the default: sandbox BigCommerce, embedded
PostgreSQL, DuckDB) or `prod` (the real services, every secret through `EnvVar`).
`GOV_WAREHOUSE` picks where the raw zone and dbt live: `duckdb` (local's default),
`bigquery` (prod's) or `bigquery-emulator` (BigQuery's API served locally, for runs and tests
without Google: `python3 run.py main --warehouse bigquery-emulator`).
`GOV_DATA_DIR` is the folder that holds everything written locally, so that two runs with
different folders never collide. Both are read when called, never at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("local", "prod")
WAREHOUSES = ("duckdb", "bigquery", "bigquery-emulator")


def environment() -> str:
    name = os.environ.get("GOV_ENV", "local").strip().lower()
    if name not in ENVIRONMENTS:
        raise ValueError(f"GOV_ENV={name!r} is not one of {', '.join(ENVIRONMENTS)}")
    return name


def warehouse() -> str:
    default = "bigquery" if environment() == "prod" else "duckdb"
    name = os.environ.get("GOV_WAREHOUSE", default).strip().lower() or default
    if name not in WAREHOUSES:
        raise ValueError(f"GOV_WAREHOUSE={name!r} is not one of {', '.join(WAREHOUSES)}")
    return name


@dataclass(frozen=True)
class DataDir:
    """Every local path the platform writes to, derived from one root."""

    root: Path

    @classmethod
    def from_env(cls) -> DataDir:
        return cls(Path(os.environ.get("GOV_DATA_DIR", REPO_ROOT / ".data")).resolve())

    @property
    def raw(self) -> Path:
        """Staged, published and quarantined batches (Parquet)."""
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        """The DuckDB file dbt builds into and whose `raw` schema views the raw zone."""
        return self.root / "warehouse.duckdb"

    @property
    def quota_ledgers(self) -> Path:
        """The BigCommerce quota every extraction process of this machine paces by."""
        return self.root / "bigcommerce" / "quota"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def lineage_file(self) -> Path:
        return self.root / "lineage" / "events.jsonl"

    @property
    def lineage_outbox(self) -> Path:
        """Events bound for Marquez, one file per run, until the run is shipped."""
        return self.root / "lineage" / "outbox"

    @property
    def alert_outbox(self) -> Path:
        return self.root / "alerts" / "outbox.jsonl"

    @property
    def sandbox(self) -> Path:
        """State of the embedded stand-ins (the sandbox API, the embedded PostgreSQL)."""
        return self.root / "sandbox"

    @property
    def drop_folder(self) -> Path:
        """Where the file-drop sensor watches for new quotation files."""
        return self.root / "drop"
