"""The per-table summary the main job prints: one row per materialized asset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _number(metadata: dict[str, Any], key: str) -> int | float | None:
    value = metadata.get(key)
    return getattr(value, "value", value)


@dataclass
class Row:
    table: str
    rows: int
    quarantined: int
    requests: int | str
    throttled: int | str
    retries: int | str
    seconds: float


@dataclass
class Summary:
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, table: str, metadata: dict[str, Any]) -> Row:
        def value(key: str, default: int | str = "-") -> Any:
            found = _number(metadata, key)
            return default if found is None else found

        row = Row(
            table=table,
            rows=value("dagster/row_count", 0),
            quarantined=value("rows_quarantined", 0),
            requests=value("requests", value("queries")),
            throttled=value("throttled_429"),
            retries=value("retries"),
            seconds=float(value("seconds", 0.0)),
        )
        self.rows.append(row)
        return row

    def table(self) -> str:
        header = ("table", "rows", "quarantined", "requests", "429s", "retries", "seconds")
        body = [
            (r.table, r.rows, r.quarantined, r.requests, r.throttled, r.retries, f"{r.seconds:.1f}")
            for r in sorted(self.rows, key=lambda r: r.table)
        ]
        columns = zip(header, *body, strict=True)
        widths = [max(len(str(cell)) for cell in column) for column in columns]
        lines = ["", "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in body
        ]
        lines += [f"FAILED {failure}" for failure in self.failures]
        return "\n".join(lines)
