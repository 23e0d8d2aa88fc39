"""A staged batch: rows streamed into Parquet row groups, published by one atomic rename.

A batch is written under `staging/`, where no reader looks. Publishing renames the finished
file into `published/` (and its quarantined rows into `quarantine/`), and a rename within one file
system is atomic: a reader sees the table before the batch or after it, never half of it.
A crash before `publish()` leaves the published state untouched; the orphan stays in
`staging/` for inspection.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from resources.raw_zone.layout import TableRef, Zone, ZonePaths

ROW_GROUP_ROWS = 10_000

BATCH_SCHEMA = pa.schema(
    [
        ("_batch_id", pa.string()),
        ("_row", pa.int64()),
        ("_run_id", pa.string()),
        ("_extracted_at", pa.timestamp("us", tz="UTC")),
        ("_pk", pa.int64()),
        ("_modified_at", pa.timestamp("us", tz="UTC")),
        ("record", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("_batch_id", pa.string()),
        ("_row", pa.int64()),
        ("_run_id", pa.string()),
        ("_quarantined_at", pa.timestamp("us", tz="UTC")),
        ("_stage", pa.string()),
        ("_rule", pa.string()),
        ("_column", pa.string()),
        ("_reason", pa.string()),
        ("_pk", pa.int64()),
        ("record", pa.string()),
    ]
)


UNCLASSIFIED_SCHEMA = pa.schema(
    [
        ("_batch_id", pa.string()),
        ("_row", pa.int64()),
        ("_run_id", pa.string()),
        ("_held_at", pa.timestamp("us", tz="UTC")),
        ("_pk", pa.int64()),
        ("field", pa.string()),
        ("json_type", pa.string()),
        ("value", pa.string()),  # the field's value as JSON text
    ]
)


class QuarantineReason(Protocol):
    """Why a staged row is quarantined (see `checks.policy.QuarantineReason`)."""

    stage: str
    rule: str
    column: str | None
    reason: str


class _RowGroupWriter:
    """Buffers rows column-wise and writes a Parquet row group every `ROW_GROUP_ROWS`."""

    def __init__(self, path: Path, schema: pa.Schema, metadata: dict[str, str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self.closed = False
        self._schema = schema.with_metadata(metadata)
        self._columns: dict[str, list[Any]] = {name: [] for name in schema.names}
        self._writer = pq.ParquetWriter(path, self._schema, compression="zstd")

    def append(self, row: dict[str, Any]) -> None:
        for name, values in self._columns.items():
            values.append(row.get(name))
        self.rows += 1
        if len(self._columns["_row"]) >= ROW_GROUP_ROWS:
            self.flush()

    def append_table(self, table: pa.Table) -> None:
        """Rows already in Arrow form (same schema), written as they are: no per-row Python."""
        self.flush()
        if table.num_rows:
            self._writer.write_table(table.replace_schema_metadata(self._schema.metadata))
            self.rows += table.num_rows

    def flush(self) -> None:
        if self._columns["_row"]:
            self._writer.write_table(pa.table(self._columns, schema=self._schema))
            self._columns = {name: [] for name in self._columns}

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self._writer.close()
        self.closed = True
        with open(self.path, "rb") as handle:  # durable before it becomes visible
            os.fsync(handle.fileno())


class StagedBatch:
    """One extraction's batch of one table, from first row to publish (or abandon)."""

    def __init__(self, paths: ZonePaths, ref: TableRef, batch_id: str, run_id: str) -> None:
        self.ref = ref
        self.batch_id = batch_id
        self.run_id = run_id
        self.extracted_at = datetime.now(UTC)
        self._paths = paths
        self._next_row = 0
        metadata = {"table": ref.qualified_name, "batch_id": batch_id, "run_id": run_id}
        self._rows = _RowGroupWriter(paths.staging(ref, batch_id), BATCH_SCHEMA, metadata)
        self._quarantine: _RowGroupWriter | None = None
        self._unclassified: _RowGroupWriter | None = None
        self._metadata = metadata
        self.published_path: Path | None = None
        self.quarantine_path: Path | None = None
        self.unclassified_path: Path | None = None

    @property
    def rows(self) -> int:
        return self._rows.rows

    @property
    def quarantined(self) -> int:
        return self._quarantine.rows if self._quarantine else 0

    def add(self, pk: int, modified_at: datetime, record_json: str) -> int:
        """Stage one record; returns its row number in the batch."""
        row = self._take_row()
        self._rows.append(
            {
                "_batch_id": self.batch_id,
                "_row": row,
                "_run_id": self.run_id,
                "_extracted_at": self.extracted_at,
                "_pk": pk,
                "_modified_at": modified_at,
                "record": record_json,
            }
        )
        return row

    def hold_field(self, row: int, pk: int, field: str, json_type: str, value_json: str) -> None:
        """Keep the value of a field the contract does not name, out of the staged record."""
        if self._unclassified is None:
            self._unclassified = _RowGroupWriter(
                self._paths.staging(self.ref, self.batch_id, zone="unclassified"),
                UNCLASSIFIED_SCHEMA, self._metadata)
        self._unclassified.append({"_batch_id": self.batch_id, "_row": row, "_run_id": self.run_id,
                           "_held_at": datetime.now(UTC), "_pk": pk, "field": field,
                           "json_type": json_type, "value": value_json})

    def quarantine(
        self,
        *,
        rule: str,
        column: str | None,
        reason: str,
        raw: str,
        pk: int | None = None,
        stage: str = "structural",
        row: int | None = None,
    ) -> None:
        """Keep a record that cannot be published, with why, for the quarantine zone."""
        if self._quarantine is None:
            self._quarantine = _RowGroupWriter(
                self._paths.staging(self.ref, self.batch_id, zone="quarantine"),
                QUARANTINE_SCHEMA,
                self._metadata,
            )
        self._quarantine.append(
            {
                "_batch_id": self.batch_id,
                "_row": row if row is not None else self._take_row(),
                "_run_id": self.run_id,
                "_quarantined_at": datetime.now(UTC),
                "_stage": stage,
                "_rule": rule,
                "_column": column,
                "_reason": reason,
                "_pk": pk,
                "record": raw,
            }
        )

    def _take_row(self) -> int:
        self._next_row += 1
        return self._next_row

    def seal_rows(self) -> Path:
        """Finish the rows file so an audit can read it; rows may still be quarantined."""
        self._rows.close()
        return self._rows.path

    def seal(self) -> Path:
        """Finish writing; the staged file can then be read (by an audit) but is not visible."""
        for writer in (self._rows, self._quarantine, self._unclassified):
            if writer is not None:
                writer.close()
        return self._rows.path

    def quarantine_rows(self, reasons: Mapping[int, QuarantineReason]) -> int:
        """Move the audited rows named by `_row` out of the batch and into its quarantine.

        The rows file is rewritten without them (a row group at a time) and swapped in by
        rename, so a crash leaves either the old file or the new one, never a mix.
        """
        if not reasons:
            return 0
        path = self.seal_rows()
        kept = _RowGroupWriter(path.with_suffix(".rewrite"), BATCH_SCHEMA, self._metadata)
        moved = 0
        leaving = pa.array(sorted(reasons), type=pa.int64())
        for chunk in pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP_ROWS):
            table = pa.Table.from_batches([chunk])
            out = pc.is_in(table.column("_row"), value_set=leaving)
            kept.append_table(table.filter(pc.invert(out)))
            for row in table.filter(out).to_pylist():
                why = reasons[row["_row"]]
                moved += 1
                self.quarantine(rule=why.rule, column=why.column, reason=why.reason,
                                raw=row["record"], pk=row["_pk"], stage=why.stage,
                                row=row["_row"])
        kept.close()
        os.replace(kept.path, path)
        self._rows = kept
        kept.path = path
        return moved

    def publish(self) -> Path:
        """Make the batch visible atomically. Quarantine first: a crash between the two renames
        may repeat a quarantined row on the rerun but can never lose one."""
        self.publish_quarantine()
        self.published_path = self._move(self._rows.path)
        return self.published_path

    def publish_quarantine(self) -> Path | None:
        """Move the quarantined rows into the quarantine zone, and the values of unclassified
        fields into the unclassified zone (also done for a blocked batch)."""
        self.seal()
        if self._unclassified is not None and self.unclassified_path is None:
            self.unclassified_path = self._move(self._unclassified.path, zone="unclassified")
        if self._quarantine is not None and self.quarantine_path is None:
            self.quarantine_path = self._move(self._quarantine.path, zone="quarantine")
        return self.quarantine_path

    def abandon(self, reason: str) -> None:
        """Leave the staged files where they are, marked, and publish nothing."""
        self.seal()
        marker = self._paths.staging(self.ref, self.batch_id).with_suffix(".abandoned.json")
        marker.write_text(json.dumps({"batch_id": self.batch_id, "reason": reason}))

    def destination(self, zone: Zone = "published") -> Path:
        """Where this batch's part of `zone` is once published (known before it is)."""
        return self._paths.published(self.ref, self.batch_id, zone=zone)

    def _move(self, staged: Path, *, zone: Zone = "published") -> Path:
        target = self.destination(zone)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return target
