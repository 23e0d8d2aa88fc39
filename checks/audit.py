"""Audit one staged batch against its contract: both audits, the policy, the check results.

This is the "audit" of write-audit-publish. It reads the sealed rows file, runs the Pandera
contract and then the GX suite (which needs the batch typed, so it does not run on a batch
whose shape is wrong and reports that instead), decides by the contract's policy, and moves
every row it quarantines into the batch's quarantine. Publishing or blocking is the caller's move.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from checks.drift import Drift
from checks.families import (
    HELD_OVER_LIMIT,
    FamilyHolds,
    hold_families,
    hold_whole_batch,
    over_parent_limit,
)
from checks.findings import AuditResult, Finding
from checks.judges import JUDGES, Judge, Judged, audit_engine
from checks.pandera_audit import structural_findings
from checks.policy import QuarantineReason, Verdict, blocked_quarantine, decide
from checks.report import BatchQuarantine, check_result
from contracts import contract_for
from contracts.base import Contract
from resources.raw_zone import StagedBatch


@dataclass
class BatchAudit:
    verdict: Verdict
    results: list[AuditResult]
    check_results: list[dg.AssetCheckResult]
    quarantined_by_rule: dict[str, int]
    # Nulls per contract column over the rows audited: counts only, for lineage's quality
    # metrics, so nothing needs to keep the frame alive after the audit.
    null_counts: dict[str, int] = field(default_factory=dict)
    rows_audited: int = 0
    families: list[FamilyHolds] = field(default_factory=list)  # parents held or released
    # Staged row -> why, for every row the audit sets aside (a warehouse that publishes by
    # itself, BigQuery's, takes the decision rather than the moved files).
    quarantine: dict[int, QuarantineReason] = field(default_factory=dict)
    bytes_processed: int | None = None  # by the audit's queries, where the warehouse bills them


def quarantine_query(batch: StagedBatch) -> str:
    return f"SELECT * FROM {batch.ref.quarantine_view} WHERE _batch_id = '{batch.batch_id}'"


def unclassified_query(batch: StagedBatch) -> str:
    return f"SELECT * FROM {batch.ref.unclassified_view} WHERE _batch_id = '{batch.batch_id}'"


@dataclass
class Staging:
    """What the extraction learnt while staging a batch, for its audit: records quarantined
    while parsing (counts, columns and a few keys per rule), fields held back as unclassified (and
    those the table held before), and parents held for reasons outside the batch."""

    quarantined_by_rule: Counter = field(default_factory=Counter)
    quarantined_columns: dict[str, str | None] = field(default_factory=dict)
    quarantined_keys: dict[str, list] = field(default_factory=dict)
    drift: Drift | None = None
    seen_before: set[str] = field(default_factory=set)
    parents_out: dict[str, dict[int, str]] = field(default_factory=dict)


def audit_batch(contract: Contract, batch: StagedBatch, asset_key: dg.AssetKey,
                staging: Staging, engine: str | None = None,
                judge: Judge | None = None, move: bool = True) -> BatchAudit:
    """Audit `batch` and quarantine the rows the contract's policy sets aside. Where the audits
    run (`checks.judges`): `judge` if given (`on_bigquery`), else `engine`, by default
    `GOV_AUDIT_ENGINE`. `move=False` leaves the staged files as they are (the decision is
    `BatchAudit.quarantine`)."""
    judge = judge or JUDGES[engine or audit_engine()]
    with judge(contract, batch.seal_rows()) as judged:
        audit, quarantine = _decide(contract, batch, asset_key, staging, judged)
    audit.quarantine = quarantine
    if move:
        batch.quarantine_rows(quarantine)
    return audit


def _decide(contract: Contract, batch: StagedBatch, asset_key: dg.AssetKey, staging: Staging,
            judged: Judged) -> tuple[BatchAudit, dict[int, QuarantineReason]]:
    schema, quality = judged.schema, judged.quality
    structural = staging.quarantined_by_rule
    schema.findings = structural_findings(structural, staging.quarantined_columns,
                                          staging.quarantined_keys) + schema.findings
    schema.rows_audited += sum(structural.values())  # every record read, parsed or not
    held: dict[str, str] = {}
    drift = staging.drift
    if drift is not None and drift.fields:
        schema.findings += drift.findings(strict=contract.strict,
                                          seen_before=staging.seen_before)
        held = {"unclassified_fields": drift.summary(),
                "unclassified_values": unclassified_query(batch)}
    results = [schema, quality]
    verdict = decide(contract, results, batch.rows, batch.quarantined)
    quarantine = dict(verdict.quarantine)
    families = []
    parent_columns = [relation.column for relation in contract.parents]
    if contract.parents and verdict.outcome != "blocked":
        verdict, families = _hold_families(contract, judged.keys(parent_columns), results,
                                           verdict, quarantine, staging.parents_out)
    if verdict.outcome == "blocked":
        quarantine = blocked_quarantine(results, verdict, judged.all_rows())
        families = hold_whole_batch(contract, judged.keys(parent_columns),
                                    f"the {contract.qualified_name} batch {batch.batch_id} "
                                    "was blocked")
    # Rows quarantined while parsing are in the batch's quarantine already; the rest move there.
    where = BatchQuarantine(batch.batch_id, quarantine_query(batch),
                            str(batch.destination("quarantine")),
                            batch.quarantined + len(quarantine),
                            tuple(f.summary() for f in families if f.parents_held))
    sample = judged.sample(results)
    checks = [check_result(result, verdict, contract, asset_key, sample, where,
                           held if result is schema else None)
              for result in results]
    by_rule = Counter(structural) + Counter(why.rule for why in quarantine.values())
    audit = BatchAudit(verdict, results, checks, dict(by_rule), judged.null_counts,
                       judged.rows, families)
    return audit, quarantine


def _hold_families(contract: Contract, data: pd.DataFrame, results: list[AuditResult],
                   verdict: Verdict, quarantine: dict[int, QuarantineReason],
                   parents_out: dict[str, dict[int, str]]) -> tuple[Verdict, list[FamilyHolds]]:
    """Hold the families of quarantined rows (`checks.families`): the held rows join the
    quarantine and the schema check's findings; too many held parents block the batch."""
    families = hold_families(contract, data, quarantine, parents_out)
    limits = {f.relation.parent: contract_for(*f.relation.parent.split(".")).max_quarantine_fraction
              for f in families}
    too_many = over_parent_limit(families, limits)
    if too_many is not None:  # a batch-level finding, so the check fails saying why
        results[0].findings.append(Finding(HELD_OVER_LIMIT, None, "batch", 1, too_many))
        blocked = Verdict("blocked", f"{verdict.summary}; {too_many}", verdict.records_read,
                          verdict.rows_failing, verdict.quarantine)
        return blocked, families
    said = []
    for family in families:
        quarantine.update(family.children_held)
        for rule in sorted({r.rule for r in family.children_held.values()}):
            rows = sorted(row for row, r in family.children_held.items() if r.rule == rule)
            results[0].findings.append(Finding(
                rule, family.relation.column, "row", len(rows),
                f"{len(rows)} rows held with their {family.relation.parent} (they broke "
                "nothing themselves; not counted towards the limit)", rows=rows))
        if family.parents_held:
            said.append(family.summary())
    summary = "; ".join([verdict.summary, *said])
    return Verdict(verdict.outcome if not said else "quarantined", summary,
                   verdict.records_read, verdict.rows_failing, verdict.quarantine), families


__all__ = ["BatchAudit", "audit_batch"]
