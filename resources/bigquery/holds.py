"""Parents held back with their children, as in the local zone (`resources.raw_zone.holds`): an
order is left out of the current view while one of its lines is quarantined.

A child batch appends, for every parent key it touched, whether that parent is held (with the
rule and why) or clean, to `quarantine.<parent source>__<parent table>__holds`; the latest
decision per key decides, and both current views read it (`resources.bigquery.tables`). The
append is a load job named by the child batch, and is skipped when that batch's decisions are
in the table already, so a retry never writes them twice.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from resources.bigquery.schemas import HOLDS_SCHEMA, fields
from resources.bigquery.settings import sql_id, sql_string
from resources.bigquery.warehouse import JobCost, Warehouse
from resources.raw_zone.layout import TableRef


def write_holds(warehouse: Warehouse, parent: TableRef, child: TableRef, batch_id: str,
                held: Mapping[int, tuple[str, str]], clean: set[int],
                costs: list[JobCost]) -> int:
    """Append the child batch's decision for each parent key (`held`: key -> (rule, why));
    returns how many were written (0 when none, or when a retry finds them there)."""
    keys = sorted(set(held) | set(clean))
    if not keys:
        return 0
    table_id = warehouse.names.holds(parent)
    done = warehouse.query(
        f"SELECT COUNT(*) FROM {sql_id(table_id)} WHERE _batch_id = {sql_string(batch_id)} "
        f"AND child_table = {sql_string(child.qualified_name)}",
        f"reading the holds of batch {batch_id} on {parent.qualified_name}", costs=costs)
    if done[0][0]:
        return 0
    now = datetime.now(UTC)
    table = pa.table({
        "_pk": keys, "_batch_id": [batch_id] * len(keys), "_decided_at": [now] * len(keys),
        "held": [key in held for key in keys],
        "child_table": [child.qualified_name] * len(keys),
        "rule": [held[key][0] if key in held else None for key in keys],
        "reason": [held[key][1] if key in held else None for key in keys],
    }, schema=HOLDS_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    costs.append(warehouse.load(
        buffer, table_id, fields(HOLDS_SCHEMA), append=True,
        job_id=f"hold_{parent.table}_{batch_id}_{child.table}",
        purpose=f"holding parents of batch {batch_id} in {parent.qualified_name}"))
    return len(keys)
