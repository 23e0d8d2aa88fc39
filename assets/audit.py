"""The audit hook every staged batch passes before it is published.

For now the audit is structural: records that do not parse were already quarantined one by one
(see `assets.records`), and a batch is blocked outright when most of it fails to parse, since
that means the source changed shape rather than a few records being bad. The contract audits
(Pandera and Great Expectations, as blocking asset checks) plug in here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from resources.raw_zone import StagedBatch

MAX_STRUCTURAL_REJECT_FRACTION = 0.5


@dataclass(frozen=True)
class AuditVerdict:
    publish: bool
    summary: str


def structural_audit(batch: StagedBatch, rejects_by_rule: Counter) -> AuditVerdict:
    total = batch.rows + batch.rejected
    if batch.rejected == 0:
        return AuditVerdict(True, f"structural: {total} records parsed, none rejected")
    fraction = batch.rejected / total
    rules = ", ".join(f"{rule} x{count}" for rule, count in rejects_by_rule.most_common())
    summary = f"structural: {batch.rejected} of {total} records rejected ({fraction:.1%}): {rules}"
    if fraction > MAX_STRUCTURAL_REJECT_FRACTION:
        return AuditVerdict(
            False, f"{summary}; over {MAX_STRUCTURAL_REJECT_FRACTION:.0%}, so nothing published"
        )
    return AuditVerdict(True, f"{summary}; the rest published, rejects in quarantine")
