"""The zone's table schemas, derived from the local raw zone's Parquet schemas.

The staged files are loaded as they are, so each table's columns are the Arrow schema's, in its
order (the emulator inserts a Parquet file's columns by position, not by name). Every column is
NULLABLE: a REQUIRED column refuses a Parquet column marked optional, which pyarrow writes by
default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from resources.raw_zone.batch import BATCH_SCHEMA, QUARANTINE_SCHEMA, UNCLASSIFIED_SCHEMA
from resources.raw_zone.holds import HOLDS_SCHEMA

__all__ = ["BATCH_SCHEMA", "DECISIONS_SCHEMA", "HOLDS_SCHEMA", "PUBLICATIONS_SCHEMA",
           "QUARANTINE_SCHEMA", "UNCLASSIFIED_SCHEMA", "columns", "fields", "logical_bytes"]

if TYPE_CHECKING:
    from google.cloud import bigquery

# The audit's decision per quarantined row, loaded as a small table of its own and joined.
DECISIONS_SCHEMA = pa.schema([("_row", pa.int64()), ("_stage", pa.string()),
                              ("_rule", pa.string()), ("_column", pa.string()),
                              ("_reason", pa.string())])

# One row per batch published or blocked (see `Names.publications`).
PUBLICATIONS_SCHEMA = pa.schema([("_batch_id", pa.string()), ("_run_id", pa.string()),
                                 ("published_on", pa.timestamp("us", tz="UTC")),
                                 ("blocked", pa.bool_()), ("rows_published", pa.int64()),
                                 ("rows_quarantined", pa.int64()),
                                 ("values_unclassified", pa.int64())])

_TYPES = {pa.string(): "STRING", pa.int64(): "INT64", pa.bool_(): "BOOL",
          pa.float64(): "FLOAT64"}


def fields(schema: pa.Schema) -> list[bigquery.SchemaField]:
    """BigQuery's schema for an Arrow schema of ours."""
    from google.cloud import bigquery

    return [bigquery.SchemaField(field.name, _type(field.type)) for field in schema]


def columns(schema: pa.Schema) -> str:
    """The column list of `schema`, for INSERT and SELECT."""
    return ", ".join(schema.names)


def _type(arrow: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMP"
    if arrow in _TYPES:
        return _TYPES[arrow]
    raise TypeError(f"no BigQuery type for the Arrow type {arrow}")


def logical_bytes(table: pa.Table) -> int:
    """The table's size as BigQuery counts it for billing: 8 bytes per INT64 or TIMESTAMP, 1 per
    BOOL, 2 plus the UTF-8 length per STRING, nothing for NULL. The denominator of the target
    "bytes scanned per batch at most 3x the batch's size"."""
    import pyarrow.compute as pc

    total = 0
    for column in table.columns:
        present = len(column) - column.null_count
        if pa.types.is_string(column.type):
            lengths = pc.sum(pc.binary_length(column)).as_py() or 0
            total += lengths + 2 * present
        elif pa.types.is_boolean(column.type):
            total += present
        else:
            total += 8 * present
    return total
