"""The two tables a check result shows inline: one row per broken rule, and failing rows.

Both are `MetadataValue.table`s with a schema, so Dagster renders them on the check page, and
both are bounded. Open-source Dagster enforces no size on metadata, but it stores each check
evaluation whole in one database field (`asset_check_executions.evaluation_event`, a TEXT:
64 KiB on MySQL), and the UI renders every row it is given. So a table stops at its row cap, at
`MAX_CELL_CHARS` per cell, and at `MAX_TABLE_CHARS` of JSON (written with `\\u` escapes, as
Dagster's serializer writes it): the two tables together stay under half of that field. Rows
left out are counted, never dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from checks.drift import RULE as DRIFT_RULE
from checks.drift import UNCLASSIFIED
from checks.findings import AuditResult
from checks.masking import mask, pii_of
from contracts.base import Contract

MAX_RULE_ROWS = 50
MAX_SAMPLE_ROWS = 20
MAX_CELL_CHARS = 200
MAX_TABLE_CHARS = 12_000
MAX_EXAMPLES_SHOWN = 3
PARSED_ROW = "(parse)"  # the row of a record quarantined while parsing: it was never staged

RULES_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("rule", "string", "the rule broken (a Pandera check, a GX expectation)"),
    dg.TableColumn("column", "string", "the column it reads"),
    dg.TableColumn("level", "string", "batch: blocks the batch; row: quarantines its rows; "
                   "warn: neither"),
    dg.TableColumn("rows", "int", "rows that broke it"),
    dg.TableColumn("examples", "string", "a few offending values, masked"),
])
SAMPLE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("row", "string", f"the staged row, or {PARSED_ROW} for a record "
                   "quarantined while parsing"),
    dg.TableColumn("key", "string", "the record's primary key"),
    dg.TableColumn("rule", "string", "the rule it broke"),
    dg.TableColumn("column", "string", "the column it reads"),
    dg.TableColumn("value", "string", "the offending value, masked"),
])


@dataclass(frozen=True)
class Bounded:
    """A table as shown, and how many of its rows were left out to keep it in bounds."""

    table: dg.TableMetadataValue
    left_out: int


def cell(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _bounded(rows: Iterable[dict], total: int, schema: dg.TableSchema, max_rows: int) -> Bounded:
    records: list[dg.TableRecord] = []
    size = 0
    for row in rows:
        data = {name: cell(value) if isinstance(value, str) else value
                for name, value in row.items()}
        size += len(json.dumps(data))
        if len(records) == max_rows or (records and size > MAX_TABLE_CHARS):
            break
        records.append(dg.TableRecord(data))
    return Bounded(dg.MetadataValue.table(records=records, schema=schema), total - len(records))


class _Masks:
    """Each value's masking class: its column's PII class; a column the contract does not name
    (a field nobody has classified) is masked as unclassified. Read from the contract once."""

    def __init__(self, contract: Contract) -> None:
        self.known = set(contract.schema.columns) | set(contract.derived)
        self.pii = contract.pii_columns

    def shown_as(self, column: str | None, rule: str) -> str | None:
        names = [name for name in (column or "").split(",") if name]
        if rule == DRIFT_RULE or any(name not in self.known for name in names):
            return UNCLASSIFIED
        return pii_of(column, self.pii)


def _rule_rows(result: AuditResult, masks: _Masks) -> Iterator[dict]:
    for finding in result.findings:
        shown_as = masks.shown_as(finding.column, finding.rule)
        examples = [mask(value, shown_as) for value in finding.examples[:MAX_EXAMPLES_SHOWN]]
        yield {"rule": finding.rule, "column": finding.column or "", "level": finding.level,
               "rows": int(finding.count), "examples": ", ".join(examples)}
    if result.error:  # our own message, about the audit, not about any value
        yield {"rule": "audit_error", "column": "", "level": "batch", "rows": 0,
               "examples": result.error}


def rules_table(result: AuditResult, contract: Contract) -> Bounded:
    total = len(result.findings) + bool(result.error)
    return _bounded(_rule_rows(result, _Masks(contract)), total, RULES_SCHEMA, MAX_RULE_ROWS)


def _plain(value: object) -> object:
    try:
        if pd.isna(value):  # type: ignore[arg-type]
            return None
    except (TypeError, ValueError):
        pass
    return value


def _sample_rows(result: AuditResult, frame: pd.DataFrame | None,
                 contract: Contract) -> Iterator[dict]:
    masks = _Masks(contract)
    for finding in result.findings:
        if finding.level == "row" and not finding.rows:  # quarantined while parsing
            for key in finding.examples:
                yield {"row": PARSED_ROW, "key": str(key), "rule": finding.rule,
                       "column": finding.column or "", "value": ""}
        for row in finding.rows:
            key, value = "", ""
            if frame is not None and row in frame.index:
                record = frame.loc[row]
                key = str(record.get(contract.primary_key, ""))
                columns = [c for c in (finding.column or "").split(",") if c in frame.columns]
                value = ", ".join(mask(_plain(record[c]), masks.shown_as(c, finding.rule))
                                  for c in columns)
            yield {"row": str(row), "key": key, "rule": finding.rule,
                   "column": finding.column or "", "value": value}


def sample_table(result: AuditResult, frame: pd.DataFrame | None, contract: Contract) -> Bounded:
    """Up to 20 failing rows: staged row, key, the rule and the (masked) offending value."""
    total = sum(len(f.rows) + (f.count if f.level == "row" and not f.rows else 0)
                for f in result.findings)
    return _bounded(_sample_rows(result, frame, contract), total, SAMPLE_SCHEMA, MAX_SAMPLE_ROWS)
