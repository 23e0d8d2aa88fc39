"""What a steward reads in the Dagster UI for one check of one batch.

Every check result carries the same keys, whichever tool produced it: rows audited, rows
failing and their fraction, one table row per broken rule (rule, column, count, examples), a
sample of at most 20 failing rows, the owner, and where the quarantined rows are. Every value
shown passes through `checks.masking.mask` with the column's PII class.
"""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd

from checks.drift import RULE as DRIFT_RULE
from checks.drift import UNCLASSIFIED
from checks.findings import AuditResult
from checks.masking import mask, pii_of
from checks.policy import Verdict
from contracts.base import Contract

MAX_SAMPLE_ROWS = 20


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rules_table(result: AuditResult, pii: dict[str, str]) -> tuple[str, list[dict]]:
    lines = ["| rule | column | level | rows | examples |", "|---|---|---|---|---|"]
    summary = []
    for finding in result.findings:
        shown_as = UNCLASSIFIED if finding.rule == DRIFT_RULE else pii_of(finding.column, pii)
        examples = [mask(value, shown_as) for value in finding.examples[:3]]
        summary.append({"rule": finding.rule, "column": finding.column, "level": finding.level,
                        "count": finding.count, "examples": examples})
        lines.append("| " + " | ".join(_cell(str(part)) for part in (
            finding.rule, finding.column or "", finding.level, finding.count,
            ", ".join(examples))) + " |")
    if result.error:
        lines.append(f"| audit_error | | schema | | {_cell(result.error[:200])} |")
        summary.append({"rule": "audit_error", "column": None, "level": "batch", "count": 0,
                        "examples": [result.error[:200]]})
    return "\n".join(lines), summary


def _sample(result: AuditResult, frame: pd.DataFrame | None, contract: Contract,
            pii: dict[str, str]) -> str:
    """Up to 20 failing rows: staged row, key, the rule and the (masked) offending value."""
    lines = ["| row | key | rule | column | value |", "|---|---|---|---|---|"]
    shown = 0
    for finding in result.findings:
        if finding.level == "row" and not finding.rows:  # quarantined while parsing: no staged row
            for key in finding.examples[: MAX_SAMPLE_ROWS - shown]:
                lines.append("| " + " | ".join(_cell(part) for part in (
                    "(parse)", str(key), finding.rule, finding.column or "", "")) + " |")
                shown += 1
        for row in finding.rows:
            if shown == MAX_SAMPLE_ROWS:
                return "\n".join(lines)
            key, value = "", ""
            if frame is not None and row in frame.index:
                record = frame.loc[row]
                key = str(record.get(contract.primary_key, ""))
                columns = [c for c in (finding.column or "").split(",") if c in frame.columns]
                value = ", ".join(mask(_plain(record[c]), pii.get(c)) for c in columns)
            lines.append("| " + " | ".join(_cell(part) for part in (
                str(row), key, finding.rule, finding.column or "", value)) + " |")
            shown += 1
    return "\n".join(lines)


def _plain(value: object) -> object:
    try:
        if pd.isna(value):  # type: ignore[arg-type]
            return None
    except (TypeError, ValueError):
        pass
    return value.isoformat() if isinstance(value, pd.Timestamp) else value


def _outcome(result: AuditResult, verdict: Verdict) -> str:
    """What this check's findings did: blocked the batch, quarantined rows, or only warned."""
    if not (result.findings or result.error):
        return "passed"
    if verdict.outcome == "blocked":
        return "blocked"
    return "quarantined" if result.failing_rows else "warned"


def check_result(result: AuditResult, verdict: Verdict, contract: Contract, asset_key: dg.AssetKey,
                 frame: pd.DataFrame | None, quarantine_query: str,
                 held: dict[str, str] | None = None) -> dg.AssetCheckResult:
    """`held`: extra metadata of the fields held back (already masked), for schema_contract."""
    pii = contract.pii_columns
    failed = bool(result.findings or result.error)
    severity = (dg.AssetCheckSeverity.ERROR if verdict.outcome == "blocked"
                else dg.AssetCheckSeverity.WARN)
    rules, summary = _rules_table(result, pii)
    failing_rows = result.failing_count
    audited = max(result.rows_audited, 1)
    passed = f"{result.rows_audited} rows passed {result.check}"
    warnings = [finding.reason for finding in result.findings if finding.level == "warn"]
    said = "; ".join([verdict.summary, *warnings]) if failed else passed
    description = f"{contract.qualified_name}: {said}"
    owner = contract.owner
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=result.check,
        passed=not failed,
        severity=severity,
        description=description[:1000],
        metadata={
            "outcome": _outcome(result, verdict),
            "rows_audited": result.rows_audited,
            "rows_failing": failing_rows,
            "failure_fraction": round(failing_rows / audited, 6),
            "max_quarantine_fraction": contract.max_quarantine_fraction,
            "rules": dg.MetadataValue.md(rules),
            "failing_sample": dg.MetadataValue.md(_sample(result, frame, contract, pii)),
            "examples": json.dumps(summary, default=str),
            "owner": f"team:{owner.team} <{owner.email}>",
            "table": contract.qualified_name,
            "quarantine": quarantine_query,
            **(held or {}),
        },
    )
