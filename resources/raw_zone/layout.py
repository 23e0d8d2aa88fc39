"""Where each table's batches live in the raw zone, and how batches are named."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class TableRef:
    """A raw-zone table: `source` and `table` name it, as dbt's sources will (`raw_<source>`).

    `snapshot` tables (inventory) are re-read whole on every run: their current view is the
    latest batch, not a merge of all batches by key. `parents` are (JSON path of the parent's
    key in `record`, parent table) of the relations the contract declares: a row whose parent
    is held back is left out of the current view with it.
    """

    source: str
    table: str
    snapshot: bool = False
    parents: tuple[tuple[str, TableRef], ...] = field(default=(), compare=False)

    @property
    def qualified_name(self) -> str:
        return f"{self.source}.{self.table}"

    @property
    def schema(self) -> str:
        return f"raw_{self.source}"

    @property
    def quarantine_view(self) -> str:
        return f"quarantine.{self.source}__{self.table}"

    @property
    def unclassified_view(self) -> str:
        """Values of fields the contract does not name yet, one row per record and field."""
        return f"quarantine.{self.source}__{self.table}__unclassified"


# Where a batch's parts end up: `published` (what dbt reads), `quarantine` (rows that broke a
# rule), `unclassified` (values of fields the contract does not name yet, kept until
# classified) and `holds` (parents held back with a quarantined child, by the child's batches).
Zone = Literal["published", "quarantine", "unclassified", "holds"]


@dataclass(frozen=True)
class ZonePaths:
    root: Path

    def staging(self, ref: TableRef, batch_id: str, *, zone: Zone = "published") -> Path:
        suffix = ".parquet" if zone == "published" else f".{zone}.parquet"
        return self.root / "staging" / ref.source / ref.table / f"{batch_id}{suffix}"

    def published(self, ref: TableRef, batch_id: str, *, zone: Zone = "published") -> Path:
        return self.root / zone / ref.source / ref.table / f"{batch_id}.parquet"

    def glob(self, ref: TableRef, *, zone: Zone = "published") -> Path:
        return self.published(ref, "*", zone=zone)

    def has_batches(self, ref: TableRef, *, zone: Zone = "published") -> bool:
        folder = self.glob(ref, zone=zone).parent
        return folder.is_dir() and any(folder.glob("*.parquet"))


def new_batch_id() -> str:
    """Sorts by creation time (to the microsecond), unique across processes."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}_{uuid.uuid4().hex[:8]}"


def batch_time(batch_id: str) -> datetime:
    """When a batch was created, read back from its id."""
    return datetime.strptime(batch_id.split("_", 1)[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
