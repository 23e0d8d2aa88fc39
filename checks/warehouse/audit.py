"""Both audits of one staged batch, run in DuckDB over the staged file: only counts, failing
row ids and the few rows a steward is shown come back to Python.

The batch is typed once (`checks.warehouse.typed`) into a table of a scratch DuckDB file beside
the staged batch, which is deleted afterwards; DuckDB streams the staged Parquet and spills to
disk under its memory limit, so the audit's memory does not grow with the batch. The Pandera
rules (`checks.warehouse.rules`) and the GX suite (`checks.warehouse.suite`) then read that
table. Findings have the same shape, rule names and levels as the in-memory audit's
(`checks.pandera_audit`), so the policy, the quarantine and the check results cannot tell them
apart; tests run both on the same batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from checks.findings import MAX_EXAMPLES, AuditResult, Finding
from checks.frame import expected_type
from checks.pandera_audit import CHECK_NAME as SCHEMA_CHECK
from checks.pandera_audit import in_contract_order
from checks.warehouse.rules import NOT_NULLABLE, compile_rules
from checks.warehouse.suite import derived_select, suite_audit
from checks.warehouse.typed import (
    TypedColumn,
    literal,
    presence_select,
    quote,
    typed_columns,
    typed_select,
)
from contracts.base import Contract

TYPED = "typed"
AUDIT_ROWS = "audit_rows"  # the typed rows whose every value had the right JSON type
MEMORY_LIMIT = "512MB"  # DuckDB spills past it; the memory targets are set by this figure
THREADS = 2  # the machines have 2 cores; each thread holds its own buffers


def _as_gx_connects() -> dict[str, str]:
    """DuckDB refuses a second connection to a file configured otherwise than the first, and
    GX connects through duckdb-engine, which sets this user agent; connecting as it does lets
    both stay open (GX keeps its connection for the life of its context)."""
    import duckdb_engine
    import sqlalchemy

    return {"custom_user_agent":
            f"duckdb_engine/{duckdb_engine.__version__}(sqlalchemy/{sqlalchemy.__version__})"}


class ScratchDatabase:
    """The per-batch DuckDB file the batch is typed in; our connection opens on demand, so it
    can be released while GX holds its own (`checks.warehouse.suite.Scratch`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: duckdb.DuckDBPyConnection | None = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            self._connection = duckdb.connect(str(self.path), config=_as_gx_connects())
            self._connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            self._connection.execute(
                f"SET temp_directory = {literal(str(self.path) + '.tmp')}")
            self._connection.execute("SET preserve_insertion_order = false")
            self._connection.execute(f"SET threads = {THREADS}")
        return self._connection

    def rows_of(self, sql: str) -> list[int]:
        return [int(r) for r in self.connection.execute(sql).fetchnumpy()["_row"]]

    def scalars(self, sql: str) -> list[Any]:
        return [row[0] for row in self.connection.execute(sql).fetchall()]

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class WarehouseAudit:
    """What the warehouse audit hands back: the two results and small lookups."""

    schema: AuditResult
    quality: AuditResult
    rows: int
    null_counts: dict[str, int]
    scratch: ScratchDatabase  # open until the audit's block ends: samples and keys read it

    def all_rows(self) -> list[int]:
        return self.scratch.rows_of(f"SELECT _row FROM {TYPED} ORDER BY _row")

    def keys(self, columns: list[str]) -> pd.DataFrame:
        """`_row` and the given columns of every row (the family holds read them)."""
        items = ", ".join(["_row", *(quote(c) for c in columns)])
        return self.scratch.connection.execute(
            f"SELECT {items} FROM {TYPED} ORDER BY _row").df().set_index("_row")

    def sample(self, results: list[AuditResult], limit: int = 20) -> pd.DataFrame:
        """The typed rows the check results may show: the first failing rows of each."""
        wanted = sorted({row for result in results
                         for row in [r for f in result.findings for r in f.rows][:limit]})
        if not wanted:
            return pd.DataFrame()
        listed = ", ".join(str(r) for r in wanted)
        return self.scratch.connection.execute(
            f"SELECT * FROM {TYPED} WHERE _row IN ({listed})").df().set_index("_row")


def _scalars(connection: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    return [row[0] for row in connection.execute(sql).fetchall()]


def _mismatch_findings(connection: duckdb.DuckDBPyConnection, columns: list[TypedColumn],
                       presence: dict[str, tuple[int, int]], staged: str) -> list[Finding]:
    """Values of the wrong JSON type: their rows (`dtype`), or the batch if every value is."""
    counts = connection.execute("SELECT " + ", ".join(
        f"count(*) FILTER (WHERE {quote(c.name + '__bad')})" for c in columns)
        + f" FROM {TYPED}").fetchone() if columns else ()
    findings = []
    for column, count in zip(columns, counts or (), strict=False):
        if not count:
            continue
        rows = [int(r) for r in _scalars(
            connection, f"SELECT _row FROM {TYPED} WHERE {quote(column.name + '__bad')} "
            "ORDER BY _row")]
        listed = ", ".join(str(r) for r in rows[:MAX_EXAMPLES])
        examples = [_json_value(v) for v in _scalars(connection, (
            f"SELECT json_extract(record, {literal(column.path)})::VARCHAR FROM {staged} "
            f"WHERE _row IN ({listed}) ORDER BY _row"))]
        expected = _expected(column)
        wholesale = count == presence[column.name][1]
        reason = (f"every value of {column.name!r} ({count}) is not {expected}: "
                  "the source changed the field's type" if wholesale
                  else f"{count} values of {column.name!r} are not {expected}")
        findings.append(Finding("dtype", column.name, "batch" if wholesale else "row", count,
                                reason, rows=rows, examples=examples))
    return findings


def _json_value(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _expected(column: TypedColumn) -> str:
    return expected_type(column.kind, column.column)  # one wording for both engines


def _rule_findings(connection: duckdb.DuckDBPyConnection, contract: Contract,
                   skip: set[str]) -> list[Finding]:
    """Every Pandera rule over the rows whose values were all of the right type, in one scan:
    a flag per rule, and only rows that broke at least one come back."""
    # A missing column's finding is that it is missing, not its values.
    rules = [rule for rule in compile_rules(contract)
             if not (rule.column and set(rule.column.split(",")) & skip)]
    if not rules:
        return []
    flags = ", ".join(f"coalesce({rule.failing}, false) AS __rule_{i}"
                      for i, rule in enumerate(rules))
    shown = sorted({rule.column for rule in rules if rule.column and "," not in rule.column})
    failing = connection.execute(
        f"SELECT * FROM (SELECT _row, {', '.join(quote(c) for c in shown) or 'NULL AS __none'}, "
        f"{flags} FROM {AUDIT_ROWS}) WHERE "
        + " OR ".join(f"__rule_{i}" for i in range(len(rules))) + " ORDER BY _row").df()
    findings = []
    for i, rule in enumerate(rules):
        broke = failing[failing[f"__rule_{i}"]]
        if broke.empty:
            continue
        rows = [int(r) for r in broke["_row"]]
        if rule.name == NOT_NULLABLE or rule.column not in shown:
            examples = [None] * min(len(rows), MAX_EXAMPLES) if rule.name == NOT_NULLABLE else []
        else:
            examples = [_plain(v) for v in broke[rule.column].head(MAX_EXAMPLES)]
        where = f"{rule.column!r}" if rule.column else "the batch"
        findings.append(Finding(rule.name, rule.column, "row", len(rows),
                                f"{len(rows)} rows of {where} fail {rule.name}", rows=rows,
                                examples=examples))
    return findings


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


@contextmanager
def warehouse_audit(contract: Contract, staged: Path) -> Iterator[WarehouseAudit]:
    """Audit the sealed staged file `staged`; the scratch database lives until the block ends."""
    scratch = ScratchDatabase(staged.with_suffix(".audit.duckdb"))
    scratch.path.unlink(missing_ok=True)
    try:
        yield _audit(contract, scratch, staged)
    finally:
        scratch.release()
        for leftover in (scratch.path, Path(str(scratch.path) + ".wal")):
            leftover.unlink(missing_ok=True)


def _audit(contract: Contract, scratch: ScratchDatabase, staged_path: Path) -> WarehouseAudit:
    connection = scratch.connection
    staged = f"read_parquet({literal(str(staged_path))})"
    columns = typed_columns(contract)
    connection.execute(f"CREATE TABLE {TYPED} AS {typed_select(contract, staged)}")
    counts = connection.execute(presence_select(contract, TYPED)).fetchone()
    rows = int(counts[0])
    lifted = set(contract.lift)
    presence = {c.name: (int(counts[1 + 2 * i]), int(counts[2 + 2 * i]))
                for i, c in enumerate(columns)}
    # A field no record has is missing, unless it is lifted (its value is then just null).
    missing = [c.name for c in columns
               if rows and presence[c.name][0] == 0 and c.name not in lifted]
    schema = AuditResult(SCHEMA_CHECK, rows,
                         findings=_mismatch_findings(connection, columns, presence, staged))
    schema.findings += [Finding("column_in_dataframe", name, "batch", 1,
                                f"column {name!r} is missing from the batch")
                        for name in missing]
    bad = " OR ".join(quote(c.name + "__bad") for c in columns) or "false"
    extra = "".join(f", {item}" for item in derived_select(contract))
    connection.execute(f"CREATE VIEW {AUDIT_ROWS} AS SELECT *{extra} FROM {TYPED} "
                       f"WHERE NOT ({bad})")
    schema.findings += in_contract_order(_rule_findings(connection, contract, set(missing)),
                                         contract)
    nulls = connection.execute("SELECT " + ", ".join(
        f"count(*) FILTER (WHERE {quote(c.name)} IS NULL)" for c in columns)
        + f" FROM {TYPED}").fetchone() if columns else ()
    null_counts = {c.name: int(n) for c, n in zip(columns, nulls or (), strict=False)
                   if c.name not in missing}
    audit = WarehouseAudit(schema, AuditResult("quality_expectations", rows), rows,
                           null_counts, scratch)
    if schema.error or schema.blocking:
        audit.quality.error = ("not run: the batch does not match its schema contract "
                               "(see schema_contract)")
        return audit
    typed_rows = int(connection.execute(
        f"SELECT count(*) FROM {AUDIT_ROWS}").fetchone()[0])
    connection.execute("CHECKPOINT")  # GX reads the same file through its own engine
    audit.quality = suite_audit(contract, scratch, AUDIT_ROWS, typed_rows)
    return audit
