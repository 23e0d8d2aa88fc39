"""Publishing a staged batch with its quarantine in one multi-statement transaction.

The audit's decision (`_row` -> stage, rule, column, reason) is loaded as a small table of its
own and joined, rather than written into the SQL: a decision over a million rows would not fit a
query. Then one script:

    DECLARE already BOOL DEFAULT EXISTS (SELECT 1 FROM <publications> WHERE _batch_id = ...);
    IF NOT already THEN
      BEGIN TRANSACTION;
      INSERT INTO raw_<src>.<table>__batches  SELECT ... FROM staging WHERE _row NOT IN decisions;
      INSERT INTO quarantine.<src>__<table>    SELECT ... FROM staging JOIN decisions;
      INSERT INTO quarantine.<src>__<table>    SELECT ... FROM staging quarantine (parsing);
      INSERT INTO quarantine.<src>__<table>__unclassified SELECT ... FROM staging values;
      INSERT INTO quarantine.<src>__<table>__publications (the counts);
      COMMIT TRANSACTION;
    END IF;
    SELECT ... FROM <publications> WHERE _batch_id = ...;

A failing statement fails the job, which rolls the whole transaction back (on BigQuery and on the
emulator; a ROLLBACK in an exception handler does nothing on the emulator). A blocked batch
inserts only into the quarantine, every staged row, with the audit's reason or the blocking
one. The publications row makes a repeat a no-op, so a retry after a crash between the commit
and dropping the staging tables publishes nothing twice.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from resources.bigquery.load import StagedLoad, job_id
from resources.bigquery.schemas import (
    BATCH_SCHEMA,
    DECISIONS_SCHEMA,
    QUARANTINE_SCHEMA,
    UNCLASSIFIED_SCHEMA,
    columns,
    fields,
)
from resources.bigquery.settings import Names, sql_id, sql_string
from resources.bigquery.warehouse import JobCost, Warehouse

# (stage, rule, column, reason), or an object with those attributes (`checks.policy`'s).
Reason = tuple[str, str, str | None, str] | Any


@dataclass(frozen=True)
class Published:
    """What one publish did. `already`: the batch had been published (or blocked) before and
    nothing was written now; the counts are those of that first time. `jobs` are the query
    jobs with their bytes processed and billed; `left_behind` the staging tables that could not
    be dropped (they expire by themselves)."""

    batch_id: str
    table: str
    blocked: bool
    rows_published: int
    rows_quarantined: int
    values_unclassified: int
    already: bool
    jobs: tuple[JobCost, ...]
    seconds: float
    left_behind: tuple[str, ...] = ()

    @property
    def bytes_processed(self) -> int | None:
        """Of every query job (a script counts once, not again per statement)."""
        return _total([job.bytes_processed for job in self.jobs if job.kind != "script statement"])

    @property
    def bytes_billed(self) -> int | None:
        return _total([job.bytes_billed for job in self.jobs if job.kind != "script statement"])


def _total(values: list[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def reason_of(value: Reason) -> tuple[str, str, str | None, str]:
    if isinstance(value, tuple):
        stage, rule, column, reason = value
        return stage, rule, column, reason
    return value.stage, value.rule, value.column, value.reason


def load_decisions(warehouse: Warehouse, load: StagedLoad,
                   quarantine: Mapping[int, Reason]) -> tuple[str | None, JobCost | None]:
    """The decisions as a staging table named by their content, so that a retry with the same
    decisions finds them loaded and one with others never mixes the two."""
    if not quarantine:
        return None, None
    reasons = [(row, *reason_of(quarantine[row])) for row in sorted(quarantine)]
    table = pa.table({name: [entry[i] for entry in reasons]
                      for i, name in enumerate(DECISIONS_SCHEMA.names)}, schema=DECISIONS_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()[:12]
    names = warehouse.names
    table_id = names.staging(load.ref, load.batch_id, f"decisions_{digest}")
    existing = warehouse.table(table_id)
    if existing is not None and existing.num_rows == len(reasons):
        return table_id, None
    if existing is None:
        warehouse.create_table(table_id, fields(DECISIONS_SCHEMA), expires=load.expires)
    job = warehouse.load(buffer, table_id, fields(DECISIONS_SCHEMA),
                         job_id=job_id("load", load.ref, load.batch_id, f"decisions_{digest}"),
                         purpose=f"loading the quarantine decisions of batch {load.batch_id}")
    return table_id, job


def publish_script(names: Names, load: StagedLoad, decisions: str | None,
                   blocked: Reason | None) -> str:
    """The script of the module docstring for `load`; `blocked` is the reason of every row the
    decisions do not name, when the batch is blocked."""
    ref, batch = load.ref, sql_string(load.batch_id)
    staging = sql_id(load.rows.table_id)
    ledger = sql_id(names.publications(ref))
    quarantine = sql_id(names.quarantine(ref))
    chosen = f"(SELECT _row FROM {sql_id(decisions)})" if decisions else None
    statements = []
    if blocked is None:
        kept = f" WHERE _row NOT IN {chosen}" if chosen else ""
        statements.append(f"INSERT INTO {sql_id(names.batches(ref))} ({columns(BATCH_SCHEMA)}) "
                          f"SELECT {columns(BATCH_SCHEMA)} FROM {staging}{kept}")
        published = f"(SELECT COUNT(*) FROM {staging}{kept})"
    else:
        published = "0"
    if chosen or blocked is not None:
        statements.append(f"INSERT INTO {quarantine} ({columns(QUARANTINE_SCHEMA)}) "
                          + _quarantined(staging, decisions, blocked))
    if blocked is not None:
        counted = [f"(SELECT COUNT(*) FROM {staging})"]
    else:
        counted = [f"(SELECT COUNT(*) FROM {staging} WHERE _row IN {chosen})"] if chosen else []
    if "quarantine" in load.tables:
        parsed = sql_id(load.tables["quarantine"].table_id)
        statements.append(f"INSERT INTO {quarantine} ({columns(QUARANTINE_SCHEMA)}) "
                          f"SELECT {columns(QUARANTINE_SCHEMA)} FROM {parsed}")
        counted.append(f"(SELECT COUNT(*) FROM {parsed})")
    values = "0"
    if "unclassified" in load.tables:
        held = sql_id(load.tables["unclassified"].table_id)
        statements.append(f"INSERT INTO {sql_id(names.unclassified(ref))} "
                          f"({columns(UNCLASSIFIED_SCHEMA)}) "
                          f"SELECT {columns(UNCLASSIFIED_SCHEMA)} FROM {held}")
        values = f"(SELECT COUNT(*) FROM {held})"
    statements.append(
        f"INSERT INTO {ledger} (_batch_id, _run_id, published_on, blocked, rows_published, "
        f"rows_quarantined, values_unclassified) SELECT {batch}, {sql_string(load.run_id)}, "
        f"CURRENT_TIMESTAMP(), {'TRUE' if blocked is not None else 'FALSE'}, {published}, "
        f"{' + '.join(counted) or '0'}, {values}")
    body = "".join(f"    {statement};\n" for statement in statements)
    return (f"DECLARE already BOOL DEFAULT EXISTS (SELECT 1 FROM {ledger} WHERE _batch_id = "
            f"{batch});\nIF NOT already THEN\n  BEGIN TRANSACTION;\n{body}  COMMIT TRANSACTION;\n"
            "END IF;\nSELECT already, blocked, rows_published, rows_quarantined, "
            f"values_unclassified FROM {ledger} WHERE _batch_id = {batch};\n")


def _quarantined(staging: str, decisions: str | None, blocked: Reason | None) -> str:
    """The SELECT of the staged rows going to quarantine, each with its reason."""
    head = "SELECT s._batch_id, s._row, s._run_id, CURRENT_TIMESTAMP(), "
    tail = ", s._pk, s.record"
    if blocked is None:  # only the rows the decisions name
        return (f"{head}d._stage, d._rule, d._column, d._reason{tail} FROM {staging} AS s "
                f"JOIN {sql_id(str(decisions))} AS d ON d._row = s._row")
    defaults = [sql_string(part) if part is not None else "CAST(NULL AS STRING)"
                for part in reason_of(blocked)]
    if decisions is None:
        return f"{head}{', '.join(defaults)}{tail} FROM {staging} AS s"
    # A row the audit named keeps its own reason, even a NULL column; the others the blocking one.
    chosen = ", ".join(f"IF(d._row IS NULL, {default}, d.{name})"
                       for default, name in zip(defaults, DECISIONS_SCHEMA.names[1:], strict=True))
    return (f"{head}{chosen}{tail} FROM {staging} AS s "
            f"LEFT JOIN {sql_id(decisions)} AS d ON d._row = s._row")


def run_publish(warehouse: Warehouse, load: StagedLoad, decisions: str | None,
                blocked: Reason | None, costs: list[JobCost]) -> tuple[bool, bool, int, int, int]:
    """Run the script; (already, blocked, rows published, rows quarantined, values held)."""
    rows = warehouse.query(publish_script(warehouse.names, load, decisions, blocked),
                           f"publishing batch {load.batch_id} of {load.ref.qualified_name}",
                           job_id_prefix=job_id("publish", load.ref, load.batch_id) + "_",
                           costs=costs)
    already, was_blocked, published, quarantined, values = rows[0]
    return bool(already), bool(was_blocked), int(published), int(quarantined), int(values)
