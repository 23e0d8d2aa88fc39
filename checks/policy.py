"""The contract's policy: from the audits' findings to what happens to the batch.

- Any batch-level finding, or an audit that could not run, blocks the batch.
- Otherwise the rows that broke a row-level rule are quarantined and the rest published, as
  long as they are at most the contract's `max_quarantine_fraction` of the records read
  (records quarantined while parsing count too); above it the whole batch is blocked.

Each check then reports ERROR if the batch is blocked and it found something, WARN if it found
something but the batch was published, and passes otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from checks.findings import AuditResult
from contracts.base import Contract

Outcome = Literal["passed", "quarantined", "blocked"]


@dataclass(frozen=True)
class QuarantineReason:
    """Why one staged row goes to quarantine: the first rule it broke."""

    stage: str
    rule: str
    column: str | None
    reason: str


@dataclass
class Verdict:
    outcome: Outcome
    summary: str
    records_read: int
    rows_failing: int
    quarantine: dict[int, QuarantineReason] = field(default_factory=dict)

    @property
    def failure_fraction(self) -> float:
        return self.rows_failing / self.records_read if self.records_read else 0.0


def _first_reasons(results: list[AuditResult]) -> dict[int, QuarantineReason]:
    quarantine: dict[int, QuarantineReason] = {}
    for result in results:
        for finding in result.findings:
            if finding.level != "row":
                continue
            why = QuarantineReason(result.check, finding.rule, finding.column, finding.reason)
            for row in finding.rows:
                quarantine.setdefault(row, why)
    return quarantine


def _block_reasons(results: list[AuditResult]) -> list[str]:
    reasons = []
    for result in results:
        if result.error:
            reasons.append(f"{result.check}: {result.error}")
        reasons += [f"{result.check}: {finding.reason}" for finding in result.blocking]
    return reasons


def _rules(results: list[AuditResult]) -> str:
    counts = [(f.count, f.rule, f.column) for r in results for f in r.findings if f.level == "row"]
    return ", ".join(f"{rule} on {column} x{count}" if column else f"{rule} x{count}"
                     for count, rule, column in sorted(counts, key=lambda c: -c[0])[:5])


def decide(contract: Contract, results: list[AuditResult], rows_staged: int,
           structural_quarantined: int) -> Verdict:
    """`rows_staged` parsed records are in the batch; `structural_quarantined` are already set
    aside by the parser (they are in quarantine whatever happens)."""
    quarantine = _first_reasons(results)
    records = rows_staged + structural_quarantined
    failing = len(quarantine) + structural_quarantined
    reasons = _block_reasons(results)
    fraction = failing / records if records else 0.0
    if not reasons and fraction > contract.max_quarantine_fraction:
        reasons.append(
            f"{failing} of {records} records ({fraction:.1%}) broke row rules "
            f"({_rules(results)}), over the contract's limit of "
            f"{contract.max_quarantine_fraction:.0%}"
        )
    if reasons:
        return Verdict("blocked", "; ".join(reasons), records, failing, quarantine)
    if failing:
        summary = (f"{failing} of {records} records ({fraction:.1%}) quarantined "
                   f"({_rules(results)}), within the limit of "
                   f"{contract.max_quarantine_fraction:.0%}; the rest published")
        return Verdict("quarantined", summary, records, failing, quarantine)
    return Verdict("passed", f"all {records} records passed", records, 0)


BATCH_BLOCKED = "batch_blocked"
MISSING_COLUMN = "column_in_dataframe"  # Pandera's rule for a column no record has


def blocked_quarantine(results: list[AuditResult], verdict: Verdict,
                       rows: list[int]) -> dict[int, QuarantineReason]:
    """For a blocked batch every staged row goes to quarantine, each with a true reason: the
    row rule it broke, else a batch-level finding true of it (a column retyped in every record, or
    missing from every record), else `batch_blocked` with why the batch was, for a row that
    broke nothing itself."""
    quarantine = dict(verdict.quarantine)
    for result in results:
        for finding in result.blocking:
            why = QuarantineReason(result.check, finding.rule, finding.column, finding.reason)
            for row in rows if finding.rule == MISSING_COLUMN else finding.rows:
                quarantine.setdefault(row, why)
    held = QuarantineReason("policy", BATCH_BLOCKED, None,
                            f"batch blocked: {verdict.summary}"[:300])
    for row in rows:
        quarantine.setdefault(row, held)
    return quarantine
