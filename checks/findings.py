"""The one shape every audit result takes, whichever tool found it.

Pandera's failure cases, Great Expectations' unexpected values and the records the structural
parser quarantined all become `Finding`s: a rule, the column it reads, how many rows broke it, which
staged rows (so they can be quarantined), and a few example values (masked before any of
them is shown). The `level` decides what a finding does to the batch:

- `batch`: the batch as a whole is wrong: its shape (a missing, unknown or retyped column),
  a batch-level expectation (the row count, the newest modification time), or a rule that
  could not be evaluated row by row: the batch is blocked;
- `row`: these rows are bad: they are quarantined and the rest published, unless there are too
  many of them;
- `warn`: worth a steward's look (a drifting distribution), but neither blocks nor quarantines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["batch", "row", "warn"]
MAX_EXAMPLES = 5


@dataclass
class Finding:
    rule: str
    column: str | None
    level: Level
    count: int
    reason: str
    rows: list[int] = field(default_factory=list)
    examples: list[Any] = field(default_factory=list)


@dataclass
class AuditResult:
    """What one audit (one asset check) found in one batch."""

    check: str
    rows_audited: int
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # the audit could not run: never a silent pass

    @property
    def blocking(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == "batch"]

    @property
    def failing_rows(self) -> set[int]:
        return {row for finding in self.findings if finding.level == "row" for row in finding.rows}

    @property
    def failing_count(self) -> int:
        """Rows that broke a row rule: staged rows, plus records quarantined while parsing (which
        name no staged row), so the figure agrees with the quarantine."""
        unstaged = sum(f.count for f in self.findings if f.level == "row" and not f.rows)
        return len(self.failing_rows) + unstaged
