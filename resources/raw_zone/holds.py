"""Parents held back with their children: an order is not visible while one of its lines is
quarantined, so dbt never sees half an order (invariant 11).

A child table's batch (order lines) writes, for every parent key it touched, whether that
parent is held (`held`, with the rule and why) or clean, into
`holds/<parent source>/<parent table>/<child batch>.parquet`. The latest entry per parent key
decides: the parent's current view leaves held keys out, and so does each child's current view
for rows of a held parent. A parent is released when a later child batch finds its family
clean. Files are written in staging and renamed into place, like every batch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from resources.raw_zone.layout import TableRef, ZonePaths

HOLDS_SCHEMA = pa.schema(
    [
        ("_pk", pa.int64()),  # the parent's key
        ("_batch_id", pa.string()),  # the child batch that decided
        ("_decided_at", pa.timestamp("us", tz="UTC")),
        ("held", pa.bool_()),
        ("child_table", pa.string()),
        ("rule", pa.string()),
        ("reason", pa.string()),
    ]
)


def write_holds(paths: ZonePaths, parent: TableRef, child: TableRef, batch_id: str,
                held: Mapping[int, tuple[str, str]], clean: set[int]) -> Path | None:
    """Record the child batch's decision for every parent key it touched: `held` maps a key
    to (rule, why)."""
    keys = sorted(set(held) | clean)
    if not keys:
        return None
    now = datetime.now(UTC)
    table = pa.table({
        "_pk": keys, "_batch_id": [batch_id] * len(keys), "_decided_at": [now] * len(keys),
        "held": [key in held for key in keys], "child_table": [child.qualified_name] * len(keys),
        "rule": [held[key][0] if key in held else None for key in keys],
        "reason": [held[key][1] if key in held else None for key in keys],
    }, schema=HOLDS_SCHEMA)
    staged = paths.staging(parent, f"{batch_id}.{child.table}", zone="holds")
    staged.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, staged)
    with open(staged, "rb") as handle:
        os.fsync(handle.fileno())
    target = paths.published(parent, f"{batch_id}.{child.table}", zone="holds")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    return target


def held_keys_sql(paths: ZonePaths, parent: TableRef) -> str | None:
    """A query of the parent keys held now, or None if nothing ever held one."""
    if not paths.has_batches(parent, zone="holds"):
        return None
    glob = "'" + str(paths.glob(parent, zone="holds")).replace("'", "''") + "'"
    return ("SELECT _pk FROM (SELECT _pk, held, row_number() OVER (PARTITION BY _pk ORDER BY "
            f"_batch_id DESC) AS latest FROM read_parquet({glob}, union_by_name = true)) "
            "WHERE latest = 1 AND held")


def parent_key_sql(key_path: str) -> str:
    """The parent key a raw record names at `key_path` (`order_id`), as DuckDB reads it from the
    record's JSON: NULL where it is missing or not a number, so such a row is never taken for a
    held parent's."""
    path = "'" + key_path.replace("'", "''") + "'"
    return f"TRY_CAST(json_extract_string(record, {path}) AS BIGINT)"
