"""Audit one staged batch against its contract: both audits, the policy, the check results.

This is the "audit" of write-audit-publish. It reads the sealed rows file, runs the Pandera
contract and then the GX suite (which needs the batch typed, so it does not run on a batch
whose shape is wrong and reports that instead), decides by the contract's policy, and moves
every rejected row into the batch's rejects. Publishing or blocking is the caller's move.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from checks.drift import Drift
from checks.findings import AuditResult
from checks.frame import frame_from_batch
from checks.gx_audit import CHECK_NAME as GX_CHECK
from checks.gx_audit import gx_audit
from checks.pandera_audit import pandera_audit, structural_findings
from checks.policy import Verdict, blocked_rejections, decide
from checks.report import check_result
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


def quarantine_query(batch: StagedBatch) -> str:
    return f"SELECT * FROM {batch.ref.quarantine_view} WHERE _batch_id = '{batch.batch_id}'"


def unclassified_query(batch: StagedBatch) -> str:
    return f"SELECT * FROM {batch.ref.unclassified_view} WHERE _batch_id = '{batch.batch_id}'"


def _null_counts(data: pd.DataFrame, contract: Contract) -> dict[str, int]:
    """A date the source sent empty is parsed to NaT, so it counts as null, as the contract
    reads it ("no date"). A column at a time: selecting them all would copy the frame."""
    names = [column.name for column in contract.columns if column.name in data.columns]
    return {name: int(data[name].isna().sum()) for name in names}


def audit_batch(contract: Contract, batch: StagedBatch, asset_key: dg.AssetKey,
                structural: Counter, structural_columns: dict[str, str | None],
                structural_keys: dict[str, list] | None = None, drift: Drift | None = None,
                seen_before: Iterable[str] = ()) -> BatchAudit:
    """Audit `batch` (whose parser rejects are counted in `structural`, with the keys of a
    few in `structural_keys`; the fields it held back in `drift`, those the table held in
    earlier batches in `seen_before`) and quarantine what the contract's policy rejects."""
    frame = frame_from_batch(batch.seal_rows(), contract)
    schema, typed = pandera_audit(contract, frame)
    schema.findings = structural_findings(structural, structural_columns, structural_keys) \
        + schema.findings
    schema.rows_audited += sum(structural.values())  # every record read, parsed or not
    held: dict[str, str] = {}
    if drift is not None and drift.fields:
        schema.findings += drift.findings(strict=contract.strict, seen_before=seen_before)
        held = {"unclassified_fields": drift.summary(),
                "unclassified_values": unclassified_query(batch)}
    if typed is not None:
        quality = gx_audit(contract, typed)
    else:
        quality = AuditResult(GX_CHECK, frame.rows, error="not run: the batch does not match "
                              "its schema contract (see schema_contract)")
    results = [schema, quality]
    verdict = decide(contract, results, batch.rows, batch.rejected)
    rejections = dict(verdict.quarantine)
    if verdict.outcome == "blocked":
        rejections = blocked_rejections(results, verdict, list(frame.data.index))
    sample = typed if typed is not None else frame.data
    nulls = _null_counts(frame.data, contract)
    query = quarantine_query(batch)
    checks = [check_result(result, verdict, contract, asset_key, sample, query,
                           held if result is schema else None)
              for result in results]
    frame_rows = frame.rows
    del frame, typed, sample
    batch.quarantine_rows(rejections)
    by_rule = Counter(structural) + Counter(rejection.rule for rejection in rejections.values())
    return BatchAudit(verdict, results, checks, dict(by_rule), nulls, frame_rows)


__all__ = ["BatchAudit", "audit_batch"]
