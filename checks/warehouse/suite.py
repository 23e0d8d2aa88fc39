"""The `quality_expectations` audit in the warehouse: the contract's GX suite on a SQL datasource.

Great Expectations stays the judge: the same suite as in memory (`checks.gx_audit` builds each
expectation), run by GX's SQL execution engine on the typed batch (the `audit_rows` relation,
rows whose values all had the right JSON type, with the contract's derived columns). GX returns
counts and at most a few row ids by design; for each failed row-level expectation it also
returns the query that selects every unexpected row, which is run here to get the exact
staged rows (`_row`) the quarantine moves.

DuckDB is not one of the dialects GX keeps one connection open for, so it closed the connection
before reading a result and every metric came back empty;
`keep_duckdb_connection` adds it. GX has no regex for DuckDB, so the suite's regex
expectations are evaluated here, in SQL, with GX's own semantics (`mostly`, unexpected count):
`REGEX_IN_SQL` names them, and `regex_rules` is the only rule of the suite not run by GX.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from checks.findings import MAX_EXAMPLES, AuditResult, Finding
from checks.gx_audit import CHECK_NAME, LEVEL_BY_POLICY, build_expectation, failed_outcomes
from checks.warehouse.dialects import DUCKDB, Dialect
from contracts.base import Contract, ContractError, Expectation

REGEX_IN_SQL = {"expect_column_values_to_match_regex": False,
                "expect_column_values_to_not_match_regex": True}
# A derived column is a `DataFrame.eval` expression; only arithmetic over column names, which
# reads the same in SQL.
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
ARITHMETIC = re.compile(r"^[\w\s.+\-*/()]+$")

RowsOf = Callable[[str], list[int]]  # SQL returning `_row`s -> the rows


def derived_select(contract: Contract, dialect: Dialect = DUCKDB) -> list[str]:
    """The contract's derived columns as SQL select items; refused unless plain arithmetic."""
    items = []
    for name, expression in contract.derived.items():
        if not ARITHMETIC.match(expression):
            raise ContractError(f"contract {contract.qualified_name}: derived column {name!r} "
                                f"({expression}) is not plain arithmetic, so it cannot run in "
                                "the warehouse")
        items.append(f"({expression}) AS {dialect.quote(name)}")
    return items


def _applicable(contract: Contract, rows: int) -> tuple[Expectation, ...]:
    """As in memory: an empty batch gets only the table-level expectations."""
    if rows:
        return contract.expectations
    return tuple(e for e in contract.expectations if e.type.startswith("expect_table_"))


def keep_duckdb_connection() -> None:
    """Make GX hold one DuckDB connection open, as it does for SQLite and BigQuery (see the
    module docstring). Idempotent."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    class _Dialect(str):
        @property
        def value(self) -> str:  # read like GXSqlDialect members, which are str enums
            return str(self)

    if "duckdb" not in engine._PERSISTED_CONNECTION_DIALECTS:
        engine._PERSISTED_CONNECTION_DIALECTS = (*engine._PERSISTED_CONNECTION_DIALECTS,
                                                 _Dialect("duckdb"))


def regex_rows(expectation: Expectation, scratch: Any) -> str:
    """The rows GX would call unexpected: non-null values that do not (or, negated, do)
    contain a match (GX searches, as both warehouses' regex functions do)."""
    d = scratch.dialect
    column = d.quote(expectation.kwargs["column"])
    matches = d.regex(column, expectation.kwargs["regex"])
    unexpected = matches if REGEX_IN_SQL[expectation.type] else f"NOT {matches}"
    return (f"SELECT _row FROM {scratch.audit_rows} WHERE {column} IS NOT NULL AND "
            f"{unexpected} ORDER BY _row")


def _regex_finding(expectation: Expectation, scratch: Any) -> Finding | None:
    """GX's regex expectation: unexpected = non-null values (not) matching; passes when the
    unexpected share of non-null values is at most 1 - mostly."""
    column = scratch.dialect.quote(expectation.kwargs["column"])
    rows = scratch.rows_of(regex_rows(expectation, scratch))
    if not rows:
        return None
    non_null = int(scratch.one(f"SELECT count({column}) FROM {scratch.audit_rows}")[0])
    mostly = float(expectation.kwargs.get("mostly", 1.0))
    if non_null and 1 - len(rows) / non_null >= mostly:
        return None
    listed = ", ".join(str(r) for r in rows[:MAX_EXAMPLES])
    examples = scratch.scalars(f"SELECT {column} FROM {scratch.audit_rows} "
                               f"WHERE _row IN ({listed}) ORDER BY _row")
    return _as_finding(expectation, rows, len(rows), None, examples)


def _as_finding(expectation: Expectation, rows: list[int], count: int, observed: Any,
                examples: list[Any]) -> Finding:
    level = LEVEL_BY_POLICY[expectation.on_failure]
    if level == "row" and not rows:
        level = "batch"  # a batch-level failure cannot be quarantined row by row
    if isinstance(observed, str) and ISO_TIME.match(observed):
        observed = pd.Timestamp(observed)  # BigQuery's engine reports a time as text
    if isinstance(observed, datetime):  # as pandas reports it, so both audits say the same
        observed = pd.Timestamp(observed).tz_convert("UTC")
    if not examples and observed is not None:
        examples = [observed]
    detail = f"observed {observed!r}" if observed is not None else f"{count} unexpected"
    why = f" ({expectation.why})" if expectation.why else ""
    return Finding(expectation.type, expectation.column, level, int(count),
                   f"{expectation.type} failed: {detail}{why}", rows=sorted(set(rows)),
                   examples=list(examples)[:MAX_EXAMPLES])


def suite_audit(contract: Contract, scratch: Any, rows: int,
                now: datetime | None = None) -> AuditResult:
    """The suite over the scratch's `audit_rows`, a failed check if it cannot run. `scratch`
    is a `checks.warehouse.audit.Scratch`."""
    result = AuditResult(CHECK_NAME, rows)
    try:
        result.findings = _run(contract, scratch, rows, now or datetime.now(UTC))
    except Exception as error:  # a suite that cannot run is a failed check, never a pass
        result.error = f"the GX suite could not run: {type(error).__name__}: {error}"
    return result


def _run(contract: Contract, scratch: Any, rows: int, now: datetime) -> list[Finding]:
    applicable = _applicable(contract, rows)
    in_sql = [e for e in applicable if e.type in REGEX_IN_SQL]
    by_gx = [e for e in applicable if e.type not in REGEX_IN_SQL]
    findings = [f for e in in_sql if (f := _regex_finding(e, scratch)) is not None]
    if not by_gx:
        return findings
    failed = _validate(contract, scratch, by_gx, now)
    return findings + [_gx_finding(e, result, scratch.rows_of) for e, result in failed]


def _validate(contract: Contract, scratch: Any, expectations_to_run: list[Expectation],
              now: datetime) -> list[tuple[Expectation, dict[str, Any]]]:
    """Run the suite through GX's SQL engine: each failed expectation with GX's result."""
    import great_expectations as gx  # lazy: about 3 s, paid only by a step that audits
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    name = re.sub(r"\W", "_", contract.qualified_name) + "_" + uuid.uuid4().hex[:6]
    source = scratch.gx_datasource(context, name)
    # Qualified: through sqlalchemy-bigquery an unqualified name read as empty on the emulator.
    batch = source.add_table_asset(name, table_name=scratch.gx_table,
                                   schema_name=scratch.gx_schema) \
        .add_batch_definition_whole_table("batch")
    expectations = [build_expectation(gx, e, position, now)
                    for position, e in enumerate(expectations_to_run)]
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite))
    run = validation.run(result_format={
        "result_format": "COMPLETE", "unexpected_index_column_names": ["_row"],
        "return_unexpected_index_query": True, "partial_unexpected_count": MAX_EXAMPLES})
    return [(expectation, outcome.result or {})
            for expectation, outcome in failed_outcomes(run, expectations_to_run)]


def _gx_finding(expectation: Expectation, result: dict[str, Any], rows_of: RowsOf) -> Finding:
    query = result.get("unexpected_index_query")
    query = str(query or "").strip().rstrip(";")  # GX ends its query with a semicolon
    rows = rows_of(f"SELECT _row FROM ({query}) ORDER BY _row") if query else []
    count = result.get("unexpected_count")
    if count is None:
        count = len(rows) or 1
    if rows and count != len(rows):  # the quarantine must move exactly what GX counted
        raise RuntimeError(f"{expectation.type} on {expectation.column}: GX counted {count} "
                           f"unexpected rows, its query returned {len(rows)}")
    return _as_finding(expectation, rows, count, result.get("observed_value"),
                       list(result.get("partial_unexpected_list") or []))
