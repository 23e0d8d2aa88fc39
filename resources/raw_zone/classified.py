"""Publish held values of fields that have since been classified, into the batches they came in.

A field the contract did not name was held back when its batch was staged (`checks.drift`):
the published record lacks it and the unclassified zone keeps `(batch, row, field, value)`. Once the
contract names the field, new batches publish it; this backfills the old ones. Each published
batch that held the field is rewritten with the value put back into its record and swapped in
by rename (readers see the old file or the new one), then the released values leave the held
file the same way. A value already present in the published record is not written again, so
a release that crashed half way, or runs twice, never doubles anything.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from resources.raw_zone.layout import TableRef, ZonePaths


@dataclass
class Released:
    """What one release did, per field: values put back, and batches rewritten."""

    values: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    batches: set[str] = field(default_factory=set)
    unpublished: int = 0  # held values of blocked batches: nothing of theirs was published

    @property
    def total(self) -> int:
        return sum(self.values.values())


def publish_classified(paths: ZonePaths, ref: TableRef, fields: Collection[str]) -> Released:
    """Put the held values of `fields` back into the published batches of `ref`."""
    released = Released()
    folder = paths.glob(ref, zone="unclassified").parent
    for unclassified_path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        held = pq.read_table(unclassified_path)
        chosen = pc.is_in(held.column("field"), value_set=pa.array(sorted(fields), pa.string()))
        if not pc.any(chosen).as_py():
            continue
        batch_id = unclassified_path.stem
        published = paths.published(ref, batch_id)
        if not published.exists():  # a blocked batch: its rows are in quarantine, keep them
            released.unpublished += pc.sum(chosen.cast(pa.int64())).as_py()
            continue
        values: dict[int, dict[str, str]] = defaultdict(dict)
        for row in held.filter(chosen).to_pylist():
            values[row["_row"]][row["field"]] = row["value"]
        written, found = _merge_into(published, values)
        for name, count in written.items():
            released.values[name] += count
        released.batches.add(batch_id)
        # Values of rows the audit quarantined stay held: those rows were never published.
        done = pc.and_(chosen, pc.is_in(held.column("_row"),
                                        value_set=pa.array(sorted(found), pa.int64())))
        _replace(unclassified_path, held.filter(pc.invert(done)), drop_if_empty=True)
    return released


def _merge_into(published: Path,
                values: dict[int, dict[str, str]]) -> tuple[dict[str, int], set[int]]:
    """Rewrite `published` with the held values in their records: the count written per
    field, and the rows found (the others were quarantined)."""
    table = pq.read_table(published)
    records = table.column("record").to_pylist()
    written: dict[str, int] = defaultdict(int)
    found: set[int] = set()
    for i, row in enumerate(table.column("_row").to_pylist()):
        if row not in values:
            continue
        found.add(row)
        record = json.loads(records[i])
        for name, value in values[row].items():
            if name not in record:  # already there: released before, never doubled
                record[name] = json.loads(value)
                written[name] += 1
        records[i] = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    at = table.schema.get_field_index("record")
    _replace(published, table.set_column(at, table.schema.field(at),
                                         pa.array(records, pa.string())))
    return written, found


def _replace(path: Path, table: pa.Table, *, drop_if_empty: bool = False) -> None:
    """Swap `path` for `table` by rename (or remove it, when empty and that is wanted)."""
    if drop_if_empty and table.num_rows == 0:
        path.unlink()
        return
    temporary = path.with_suffix(".rewrite")
    pq.write_table(table, temporary, compression="zstd")
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
