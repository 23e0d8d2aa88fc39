"""Both audits of one staged batch, run in the warehouse it lands in: only counts, failing row
ids and the few rows a steward is shown come back to Python.

The batch is typed once (`checks.warehouse.typed`) into a table of a scratch space: a DuckDB
file beside the staged Parquet locally (`duckdb_scratch`), a dataset of the project on BigQuery
(`bigquery_scratch`), dropped when the audit ends. The Pandera rules (`rules`) and the GX suite
(`suite`) then read that table. Findings have the same shape, rule names and levels as the
in-memory audit's (`checks.pandera_audit`), so the policy, the quarantine and the check results
cannot tell them apart; tests run both on the same batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from checks.findings import MAX_EXAMPLES, AuditResult, Finding
from checks.frame import expected_type
from checks.gx_audit import CHECK_NAME as QUALITY_CHECK
from checks.pandera_audit import CHECK_NAME as SCHEMA_CHECK
from checks.pandera_audit import in_contract_order
from checks.warehouse.dialects import Dialect
from checks.warehouse.rules import NOT_NULLABLE, compile_rules
from checks.warehouse.suite import derived_select, suite_audit
from checks.warehouse.typed import TypedColumn, presence_select, typed_columns, typed_select
from contracts.base import Contract

NOT_RUN = "not run: the batch does not match its schema contract (see schema_contract)"


class Scratch(Protocol):
    """Where one batch is typed and judged: its relations and how to query them."""

    dialect: Dialect
    staged: str  # the staged batch (`_row`, `_pk`, `record`, ...)
    typed: str
    audit_rows: str  # the typed rows whose every value had the right JSON type
    bytes_processed: int

    def execute(self, sql: str) -> None: ...
    def one(self, sql: str) -> tuple: ...
    def frame(self, sql: str) -> pd.DataFrame: ...
    def rows_of(self, sql: str) -> list[int]: ...
    def scalars(self, sql: str) -> list[Any]: ...
    def ready_for_gx(self) -> None: ...
    def gx_datasource(self, context: Any, name: str) -> Any: ...
    def close(self) -> None: ...


@dataclass
class WarehouseAudit:
    """What the warehouse audit hands back: the two results and small lookups."""

    schema: AuditResult
    quality: AuditResult
    rows: int
    null_counts: dict[str, int]
    scratch: Scratch  # open until the audit's block ends: samples and keys read it

    def all_rows(self) -> list[int]:
        return self.scratch.rows_of(f"SELECT _row FROM {self.scratch.typed} ORDER BY _row")

    def keys(self, columns: list[str]) -> pd.DataFrame:
        """`_row` and the given columns of every row (the family holds read them)."""
        q = self.scratch.dialect.quote
        items = ", ".join(["_row", *(q(c) for c in columns)])
        return self.scratch.frame(
            f"SELECT {items} FROM {self.scratch.typed} ORDER BY _row").set_index("_row")

    def sample(self, results: list[AuditResult], limit: int = 20) -> pd.DataFrame:
        """The typed rows the check results may show: the first failing rows of each."""
        wanted = sorted({row for result in results
                         for row in [r for f in result.findings for r in f.rows][:limit]})
        if not wanted:
            return pd.DataFrame()
        listed = ", ".join(str(r) for r in wanted)
        return self.scratch.frame(
            f"SELECT * FROM {self.scratch.typed} WHERE _row IN ({listed})").set_index("_row")


def _mismatch_findings(scratch: Scratch, columns: list[TypedColumn],
                       presence: dict[str, tuple[int, int]]) -> list[Finding]:
    """Values of the wrong JSON type: their rows (`dtype`), or the batch if every value is."""
    d = scratch.dialect
    if not columns:
        return []
    counts = scratch.one("SELECT " + ", ".join(
        d.count_if(d.quote(c.name + "__bad")) for c in columns) + f" FROM {scratch.typed}")
    findings = []
    for column, count in zip(columns, counts, strict=True):
        if not count:
            continue
        rows = scratch.rows_of(f"SELECT _row FROM {scratch.typed} WHERE "
                               f"{d.quote(column.name + '__bad')} ORDER BY _row")
        listed = ", ".join(str(r) for r in rows[:MAX_EXAMPLES])
        examples = [None if v is None else json.loads(v) for v in scratch.scalars(
            f"SELECT {d.json_field(column.path)} FROM {scratch.staged} "
            f"WHERE _row IN ({listed}) ORDER BY _row")]
        expected = expected_type(column.kind, column.column)  # one wording for both engines
        wholesale = count == presence[column.name][1]
        reason = (f"every value of {column.name!r} ({count}) is not {expected}: "
                  "the source changed the field's type" if wholesale
                  else f"{count} values of {column.name!r} are not {expected}")
        findings.append(Finding("dtype", column.name, "batch" if wholesale else "row",
                                int(count), reason, rows=rows, examples=examples))
    return findings


def _rule_findings(scratch: Scratch, contract: Contract, skip: set[str]) -> list[Finding]:
    """Every Pandera rule over the rows whose values were all of the right type, in one scan:
    a flag per rule, and only rows that broke at least one come back."""
    q = scratch.dialect.quote
    # A missing column's finding is that it is missing, not its values.
    rules = [rule for rule in compile_rules(contract, scratch.dialect)
             if not (rule.column and set(rule.column.split(",")) & skip)]
    if not rules:
        return []
    flags = ", ".join(f"coalesce({rule.failing}, false) AS __rule_{i}"
                      for i, rule in enumerate(rules))
    shown = sorted({rule.column for rule in rules if rule.column and "," not in rule.column})
    failing = scratch.frame(
        f"SELECT * FROM (SELECT _row, {', '.join(q(c) for c in shown) or 'NULL AS __none'}, "
        f"{flags} FROM {scratch.audit_rows}) WHERE "
        + " OR ".join(f"__rule_{i}" for i in range(len(rules))) + " ORDER BY _row")
    findings = []
    for i, rule in enumerate(rules):
        broke = failing[failing[f"__rule_{i}"].astype(bool)]
        if broke.empty:
            continue
        rows = [int(r) for r in broke["_row"]]
        if rule.name == NOT_NULLABLE:
            examples = [None] * min(len(rows), MAX_EXAMPLES)
        elif rule.column in shown:
            examples = [_plain(v) for v in broke[rule.column].head(MAX_EXAMPLES)]
        else:
            examples = []  # a row-wide rule has no one value to show
        where = f"{rule.column!r}" if rule.column else "the batch"
        findings.append(Finding(rule.name, rule.column, "row", len(rows),
                                f"{len(rows)} rows of {where} fail {rule.name}", rows=rows,
                                examples=examples))
    return in_contract_order(findings, contract)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


@contextmanager
def warehouse_audit(contract: Contract, scratch: Scratch) -> Iterator[WarehouseAudit]:
    """Audit the staged batch `scratch` reads; its scratch relations live until the block
    ends."""
    try:
        yield _audit(contract, scratch)
    finally:
        scratch.close()


def _audit(contract: Contract, scratch: Scratch) -> WarehouseAudit:
    d = scratch.dialect
    columns = typed_columns(contract, d)
    scratch.execute(f"CREATE TABLE {scratch.typed} AS "
                    f"{typed_select(contract, scratch.staged, d)}")
    counts = scratch.one(presence_select(contract, scratch.typed, d))
    rows = int(counts[0])
    presence = {c.name: (int(counts[1 + 2 * i]), int(counts[2 + 2 * i]))
                for i, c in enumerate(columns)}
    # A field no record has is missing, unless it is lifted (its value is then just null).
    missing = [c.name for c in columns
               if rows and presence[c.name][0] == 0 and c.name not in contract.lift]
    schema = AuditResult(SCHEMA_CHECK, rows,
                         findings=_mismatch_findings(scratch, columns, presence))
    schema.findings += [Finding("column_in_dataframe", name, "batch", 1,
                                f"column {name!r} is missing from the batch")
                        for name in missing]
    bad = " OR ".join(d.quote(c.name + "__bad") for c in columns) or "false"
    extra = "".join(f", {item}" for item in derived_select(contract, d))
    scratch.execute(f"CREATE VIEW {scratch.audit_rows} AS SELECT *{extra} "
                    f"FROM {scratch.typed} WHERE NOT ({bad})")
    schema.findings += _rule_findings(scratch, contract, set(missing))
    nulls = scratch.one("SELECT " + ", ".join(
        d.count_if(f"{d.quote(c.name)} IS NULL") for c in columns)
        + f" FROM {scratch.typed}") if columns else ()
    null_counts = {c.name: int(n) for c, n in zip(columns, nulls, strict=False)
                   if c.name not in missing}
    audit = WarehouseAudit(schema, AuditResult(QUALITY_CHECK, rows), rows, null_counts, scratch)
    if schema.error or schema.blocking:
        audit.quality.error = NOT_RUN
        return audit
    typed_rows = int(scratch.one(f"SELECT count(*) FROM {scratch.audit_rows}")[0])
    scratch.ready_for_gx()
    audit.quality = suite_audit(contract, scratch, typed_rows)
    return audit
