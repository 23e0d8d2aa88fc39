"""The summary the main job prints: one row per materialized asset, with its checks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def _plain(metadata: dict[str, Any], key: str) -> Any:
    value = metadata.get(key)
    return getattr(value, "value", value)


@dataclass
class Row:
    asset: str
    rows: Any
    quarantined: Any
    requests: Any
    throttled: Any
    retries: Any
    seconds: float


@dataclass
class Summary:
    rows: list[Row] = field(default_factory=list)
    checks: dict[str, Counter] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, asset: str, metadata: dict[str, Any]) -> Row:
        def value(key: str, default: Any = "-") -> Any:
            found = _plain(metadata, key)
            return default if found is None else found

        seconds = value("seconds", value("Execution Duration", 0.0))
        row = Row(
            asset,
            value("dagster/row_count"),
            value("rows_quarantined"),
            value("requests", value("queries")),
            value("throttled_429"),
            value("retries"),
            float(seconds),
        )
        self.rows.append(row)
        return row

    def add_check(self, asset: str, check: str, passed: bool, severity: str) -> None:
        outcome = "passed" if passed else f"failed ({severity.lower()})"
        self.checks.setdefault(asset, Counter())[outcome] += 1
        if not passed:
            self.failed_checks.append(f"{asset}: {check} ({severity})")

    def _checks_cell(self, asset: str) -> str:
        counts = self.checks.get(asset, Counter())
        return ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))

    def table(self) -> str:
        header = (
            "asset",
            "rows",
            "quarantined",
            "requests",
            "429s",
            "retries",
            "seconds",
            "checks",
        )
        body = [
            (
                r.asset,
                r.rows,
                r.quarantined,
                r.requests,
                r.throttled,
                r.retries,
                f"{r.seconds:.1f}",
                self._checks_cell(r.asset),
            )
            for r in sorted(self.rows, key=lambda r: r.asset)
        ]
        columns = zip(header, *body, strict=True)
        widths = [max(len(str(cell)) for cell in column) for column in columns]
        lines = ["", "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in body
        ]
        lines += [f"FAILED CHECK {check}" for check in self.failed_checks]
        lines += [f"FAILED STEP {failure}" for failure in self.failures]
        return "\n".join(lines)
