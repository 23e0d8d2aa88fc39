"""The SQL views over the raw zone's Parquet batches, and the lock that guards the warehouse file.

Per table, `raw_<source>.<table>__batches` is every published batch, kept for audit, and
`raw_<source>.<table>` is the current state: the latest version of each primary key (by
modification time, then batch, then position), or for snapshot tables the latest batch.
Views read the files by glob, so a batch appears the moment its rename lands. A view has the
envelope (`_batch_id`, `_row`, `_run_id`, `_extracted_at`, `_pk`, `_modified_at`) and the
record as JSON text, nothing more: the dbt staging models are the one parse of `record`.

DuckDB lets one process write a database file at a time, and dbt opens it as a writer. Every
writer takes `WarehouseLock` first, so a publishing step and a `dbt build` wait for each other
instead of failing with "Could not set lock on file".
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from resources.raw_zone.holds import held_keys_sql, parent_key_sql
from resources.raw_zone.layout import TableRef, ZonePaths


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _not_held(paths: ZonePaths, ref: TableRef) -> list[str]:
    """Conditions leaving out held rows: the table's own held keys (a parent held with its
    child), and rows whose parent is held (`resources.raw_zone.holds`)."""
    conditions = []
    own = held_keys_sql(paths, ref)
    if own is not None:
        conditions.append(f"_pk NOT IN ({own})")
    for key_path, parent in ref.parents:
        held = held_keys_sql(paths, parent)
        if held is None:
            continue
        key = parent_key_sql(key_path)
        conditions.append(f"({key} IS NULL OR {key} NOT IN ({held}))")
    return conditions


def view_statements(paths: ZonePaths, ref: TableRef) -> list[str]:
    """CREATE statements for one table's views (only for zones that hold at least one file)."""
    statements: list[str] = []
    if paths.has_batches(ref):
        batches = f"{ref.schema}.{ref.table}__batches"
        statements += [
            f"CREATE SCHEMA IF NOT EXISTS {ref.schema}",
            f"CREATE OR REPLACE VIEW {batches} AS SELECT * FROM "
            f"read_parquet({_quote(paths.glob(ref))}, union_by_name = true)",
        ]
        select = f"SELECT * FROM {batches}"
        kept = _not_held(paths, ref)
        if ref.snapshot:
            current = (f"{select} WHERE _batch_id = (SELECT max(_batch_id) FROM {batches})"
                       + "".join(f" AND {condition}" for condition in kept))
        else:
            # The newest version of each key is chosen on the envelope alone, then its row
            # fetched by (batch, row): a window over whole records would hold every record
            # of every batch in memory at once (dbt ran out of its 1 GB at 200k orders).
            newest = (
                f"SELECT _batch_id, _row FROM {batches}"
                f"{' WHERE ' + ' AND '.join(kept) if kept else ''} QUALIFY row_number() "
                "OVER (PARTITION BY _pk ORDER BY _modified_at DESC, _batch_id DESC, _row DESC) = 1"
            )
            current = (f"SELECT b.* FROM {batches} b SEMI JOIN ({newest}) newest "
                       "ON b._batch_id = newest._batch_id AND b._row = newest._row")
        statements.append(f"CREATE OR REPLACE VIEW {ref.schema}.{ref.table} AS {current}")
    for zone, view in (("quarantine", ref.quarantine_view),
                       ("unclassified", ref.unclassified_view)):
        if paths.has_batches(ref, zone=zone):
            statements += [
                "CREATE SCHEMA IF NOT EXISTS quarantine",
                f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM "
                f"read_parquet({_quote(paths.glob(ref, zone=zone))}, union_by_name = true)",
            ]
    return statements


@contextmanager
def warehouse_lock(warehouse: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Exclusive use of the DuckDB warehouse file across processes (see the module docstring)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    with open(warehouse.with_suffix(".lock"), "w") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the warehouse {warehouse} stayed locked for {timeout_s:.0f} s "
                        "(a dbt build or another publish holds it)"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
