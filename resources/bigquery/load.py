"""Loading a sealed staged batch (the local Parquet files of `StagedBatch`) into per-batch staging
tables of `raw_staging`: `<source>__<table>__<batch_id>` for the rows, and `__quarantine` /
`__unclassified` beside it for the rows quarantined while parsing and the held values of fields
the contract does not name, when the batch has any.

A retry never loads twice, on BigQuery and on the emulator alike:
- the load job's id is derived from the batch (`load_<table>_<batch_id>`), and BigQuery runs a
  job id once (a repeat is answered 409, and the earlier job is waited for instead);
- the emulator ignores job ids (docs/bigquery.md), so before loading, the staging table is
  looked at: holding the batch's row count already, it is kept as it is (check-before-load);
- the load writes only into an empty table (`WRITE_EMPTY`), which both honour.

Staging tables are created before the load with an expiration (`staging_expiry`, 24 h by
default) and the dataset's default expiration is the same: if the run dies before publish drops
them, they vanish by themselves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from resources.bigquery.errors import BigQueryError
from resources.bigquery.schemas import (
    BATCH_SCHEMA,
    QUARANTINE_SCHEMA,
    UNCLASSIFIED_SCHEMA,
    fields,
    logical_bytes,
)
from resources.bigquery.warehouse import JobCost, Warehouse
from resources.raw_zone.batch import StagedBatch
from resources.raw_zone.layout import TableRef, ZonePaths

PARTS = {"rows": BATCH_SCHEMA, "quarantine": QUARANTINE_SCHEMA,
         "unclassified": UNCLASSIFIED_SCHEMA}


@dataclass(frozen=True)
class StagedFiles:
    """The local files of one staged batch: its rows, and its quarantine and held values if any."""

    ref: TableRef
    batch_id: str
    run_id: str
    rows: Path
    quarantine: Path | None = None
    unclassified: Path | None = None

    @classmethod
    def of(cls, batch: StagedBatch) -> StagedFiles:
        """The files of `batch`, sealed first (sealing twice does nothing)."""
        rows = batch.seal()
        # staging/<source>/<table>/<batch>.parquet: the zone's root is three folders up.
        paths = ZonePaths(rows.parents[3])
        if paths.staging(batch.ref, batch.batch_id) != rows:
            raise BigQueryError(f"batch {batch.batch_id}: {rows} is not where the raw zone "
                                "stages its rows")
        found = {zone: path for zone in ("quarantine", "unclassified")
                 if (path := paths.staging(batch.ref, batch.batch_id, zone=zone)).is_file()}
        return cls(batch.ref, batch.batch_id, batch.run_id, rows, found.get("quarantine"),
                   found.get("unclassified"))

    def part(self, name: str) -> Path | None:
        return {"rows": self.rows, "quarantine": self.quarantine,
                "unclassified": self.unclassified}[name]


@dataclass(frozen=True)
class StagedTable:
    """One staging table: how many rows, their size as BigQuery bills it, and the load job
    (None when nothing was loaded: no rows, or a retry that found the table loaded already)."""

    part: str
    table_id: str
    rows: int
    logical_bytes: int
    job: JobCost | None

    @property
    def loaded(self) -> bool:
        return self.job is not None


@dataclass(frozen=True)
class StagedLoad:
    """A batch in staging, ready for the audit to read and for `publish`."""

    ref: TableRef
    batch_id: str
    run_id: str
    tables: dict[str, StagedTable]  # by part: "rows", and "quarantine"/"unclassified" if any
    expires: datetime
    seconds: float

    @property
    def rows(self) -> StagedTable:
        """The table the audit reads: `_row` is the key its quarantine decisions name."""
        return self.tables["rows"]

    @property
    def table_ids(self) -> list[str]:
        return [table.table_id for table in self.tables.values()]

    @property
    def jobs(self) -> list[JobCost]:
        return [table.job for table in self.tables.values() if table.job is not None]


def load_batch(warehouse: Warehouse, files: StagedFiles) -> StagedLoad:
    """Load every part of the staged batch into its staging table (see the module docstring)."""
    started = time.monotonic()
    expires = datetime.now(UTC) + warehouse.settings.staging_expiry
    tables = {}
    for part, schema in PARTS.items():
        path = files.part(part)
        if path is None:
            continue
        suffix = "" if part == "rows" else part
        table_id = warehouse.names.staging(files.ref, files.batch_id, suffix)
        tables[part] = _load_part(
            warehouse, part, path, schema, table_id,
            job_id=job_id("load", files.ref, files.batch_id, suffix), expires=expires,
            purpose=f"loading batch {files.batch_id} of {files.ref.qualified_name}"
                    + (f" ({part})" if suffix else ""))
    return StagedLoad(files.ref, files.batch_id, files.run_id, tables, expires,
                      round(time.monotonic() - started, 3))


def job_id(kind: str, ref: TableRef, batch_id: str, suffix: str = "") -> str:
    """`load_<table>_<batch_id>[_<suffix>]`: the same for every attempt at the same batch."""
    return "_".join(part for part in (kind, ref.table, batch_id, suffix) if part)


def _load_part(warehouse: Warehouse, part: str, path: Path, schema: pa.Schema, table_id: str,
               *, job_id: str, expires: datetime, purpose: str) -> StagedTable:
    expected, size = _measure(path)
    existing = warehouse.table(table_id)
    if existing is not None and existing.num_rows == expected:
        return StagedTable(part, table_id, expected, size, None)  # loaded by an earlier attempt
    if existing is not None and existing.num_rows:
        raise BigQueryError(f"{purpose}: {table_id} holds {existing.num_rows} rows but the staged "
                            f"file {expected}: drop the staging table to load it again")
    if existing is None:
        warehouse.create_table(table_id, fields(schema), expires=expires)
    if expected == 0:
        return StagedTable(part, table_id, 0, 0, None)
    job = warehouse.load(path, table_id, fields(schema), job_id=job_id, purpose=purpose)
    return StagedTable(part, table_id, expected, size, job)


def _measure(path: Path) -> tuple[int, int]:
    """Rows and BigQuery size of a staged file, a row group at a time (memory stays flat)."""
    parquet = pq.ParquetFile(path)
    size = sum(logical_bytes(pa.Table.from_batches([chunk]))
               for chunk in parquet.iter_batches(batch_size=10_000))
    return parquet.metadata.num_rows, size
