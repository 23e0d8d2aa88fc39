"""What a steward reads in the Dagster UI for one check of one batch.

Every check result carries the same keys, whichever tool produced it. The description is one
sentence: what happened and what it did to the batch. Numbers Dagster plots are only the three
worth a trend (rows audited, rows failing, their fraction); the rules broken and a sample of
failing rows are tables (`checks.tables`); the rest is text: the outcome, the contract's limit,
owner and table, and where the quarantined rows are (a query to copy, the file). Every value
shown passes through `checks.masking.mask`.

`headline` is the one line that announces a failed check: the step logs it, and it opens the
alert (`automation.alerting`), so the run view and the alert say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import dagster as dg
import pandas as pd

from checks.families import HELD_WITH_CHILD, HELD_WITH_PARENT, HELD_WITH_SIBLING
from checks.findings import AuditResult
from checks.policy import Verdict
from checks.tables import rules_table, sample_table
from contracts.base import Contract

MAX_DESCRIPTION_CHARS = 1000
_HELD_RULES = {HELD_WITH_CHILD, HELD_WITH_PARENT, HELD_WITH_SIBLING}

FailureKind = Literal["check_blocked", "rows_quarantined", "check_failed"]
FAILURE_TITLES: dict[str, str] = {
    "check_blocked": "Batch blocked by a check",
    "rows_quarantined": "Rows quarantined",
    "check_failed": "Check failed (warning)",
}


@dataclass(frozen=True)
class BatchQuarantine:
    """What the batch sets aside, the same for each of its checks: how many rows, the query
    that returns them, the file they are in once published, and the parents held with them."""

    batch_id: str
    query: str
    path: str
    rows: int
    holds: tuple[str, ...] = ()


def failure_kind(severity: dg.AssetCheckSeverity, outcome: Any) -> FailureKind:
    """What a failed check did: blocked the batch, quarantined rows, or only warned."""
    if severity == dg.AssetCheckSeverity.ERROR:
        return "check_blocked"
    return "rows_quarantined" if outcome == "quarantined" else "check_failed"


def headline(title: str, asset: str, check: str, rows_failing: int | None, owner: str) -> str:
    rows = f"{_plural(rows_failing, 'row')} failing" if rows_failing is not None else \
        "rows failing unknown"
    return f"{title}: {asset} · {check}: {rows} · owner {owner}"


def failed_check_headline(result: dg.AssetCheckResult) -> str:
    """The headline of one failed check result, from its own metadata."""
    values = {name: value.value for name, value in result.metadata.items()}
    kind = failure_kind(result.severity, values.get("outcome"))
    asset = result.asset_key.to_user_string() if result.asset_key else "?"
    failing = values.get("rows_failing")
    return headline(FAILURE_TITLES[kind], asset, result.check_name or "?",
                    failing if isinstance(failing, int) else None, str(values.get("owner")))


def _outcome(result: AuditResult, verdict: Verdict) -> str:
    """What this check's findings did: blocked the batch, quarantined rows, or only warned."""
    if not (result.findings or result.error):
        return "passed"
    if verdict.outcome == "blocked":
        return "blocked"
    return "quarantined" if result.failing_rows or result.failing_count else "warned"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _blocked(result: AuditResult, verdict: Verdict, table: str) -> str:
    if result.error:
        said = f"{result.check} could not run ({result.error})"
    elif result.blocking:
        first = result.blocking[0]
        said = (f"{first.count:,} of {result.rows_audited:,} rows broke {first.rule} "
                f"(level batch): {first.reason}")
        if len(result.blocking) > 1:
            said += f", and {_plural(len(result.blocking) - 1, 'other batch-level finding')}"
    else:
        said = verdict.summary
    return f"{table} was blocked: {said}; nothing was published."


def _published(result: AuditResult, verdict: Verdict, quarantine: BatchQuarantine,
               table: str) -> str:
    broken = [f for f in result.findings if f.level == "row" and f.rule not in _HELD_RULES]
    # Staged rows that broke a rule (once each, whatever they broke), and records quarantined
    # while parsing; rows held with their family broke nothing, so they are said apart.
    failing = (len({row for f in broken for row in f.rows})
               + sum(f.count for f in broken if not f.rows))
    published = verdict.records_read - quarantine.rows
    total = result.rows_audited
    if failing:
        rest = (f"the other {published:,}" if published == total - failing
                else f"{published:,} of the batch's {verdict.records_read:,}")
        said = (f"{failing:,} of {total:,} rows of {table} broke "
                f"{_plural(len({f.rule for f in broken}), 'rule')}; they were quarantined and "
                f"{rest} published")
    else:
        said = f"All {total:,} rows of {table} passed"
    held = [f for f in result.findings if f.rule in _HELD_RULES]
    if held:
        said += "; " + ", ".join(quarantine.holds or [f.reason for f in held])
    warnings = [f.reason for f in result.findings if f.level == "warn"]
    if warnings:
        said += f"; {_plural(len(warnings), 'warning')}: " + "; ".join(warnings)
    return said + "."


def describe(result: AuditResult, verdict: Verdict, contract: Contract,
             quarantine: BatchQuarantine) -> str:
    """One sentence under 1,000 characters: what happened and what it did to the batch."""
    table = contract.qualified_name
    failed = bool(result.findings or result.error)
    if verdict.outcome == "blocked" and failed:
        text = _blocked(result, verdict, table)
    elif verdict.outcome == "blocked":
        text = (f"All {result.rows_audited:,} rows of {table} passed; the batch was blocked all "
                f"the same: {verdict.summary}; nothing was published.")
    else:
        text = _published(result, verdict, quarantine, table)
    if len(text) <= MAX_DESCRIPTION_CHARS:
        return text
    return text[: MAX_DESCRIPTION_CHARS - 2] + "…."


def _limit(fraction: float) -> str:
    return f"{fraction * 100:g}% of rows"


def check_result(result: AuditResult, verdict: Verdict, contract: Contract, asset_key: dg.AssetKey,
                 frame: pd.DataFrame | None, quarantine: BatchQuarantine,
                 held: dict[str, str] | None = None) -> dg.AssetCheckResult:
    """`held`: extra metadata of the fields held back (already masked), for schema_contract."""
    failed = bool(result.findings or result.error)
    severity = (dg.AssetCheckSeverity.ERROR if verdict.outcome == "blocked"
                else dg.AssetCheckSeverity.WARN)
    failing_rows = result.failing_count
    rules = rules_table(result, contract)
    sample = sample_table(result, frame, contract)
    where = f"every failing row is in {quarantine.query}"
    notes = {}
    if rules.left_out:
        notes["rules_truncated"] = f"{_plural(rules.left_out, 'more rule')} not shown; {where}"
    if sample.left_out:
        notes["failing_sample_truncated"] = (
            f"{_plural(sample.left_out, 'more failing row')} not shown; {where}")
    text = dg.MetadataValue.text
    owner = contract.owner
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=result.check,
        passed=not failed,
        severity=severity,
        description=describe(result, verdict, contract, quarantine),
        metadata={
            "outcome": text(_outcome(result, verdict)),
            "rows_audited": dg.MetadataValue.int(result.rows_audited),
            "rows_failing": dg.MetadataValue.int(failing_rows),
            "failure_fraction": dg.MetadataValue.float(
                round(failing_rows / max(result.rows_audited, 1), 6)),
            "quarantine_limit": text(_limit(contract.max_quarantine_fraction)),
            "rules": rules.table,
            "failing_sample": sample.table,
            **{name: text(note) for name, note in notes.items()},
            "owner": text(f"team:{owner.team} <{owner.email}>"),
            "table": text(contract.qualified_name),
            "batch_id": text(quarantine.batch_id),
            "quarantine_query": text(quarantine.query),
            **({"quarantine_path": dg.MetadataValue.path(quarantine.path)}
               if quarantine.rows else {}),
            **{name: text(value) for name, value in (held or {}).items()},
        },
    )
