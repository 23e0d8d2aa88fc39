"""The zone's datasets, tables and current-state views, created once per table.

Per source table (dbt reads the first two, `raw_<source>` as its sources' schema):
- `raw_<source>.<table>__batches`: every published batch (envelope and `record` as JSON text);
- `raw_<source>.<table>`: the view of the current state, as the local zone's: the latest version
  of each `_pk` by `_modified_at`, then batch, then row; for snapshot tables the latest batch;
  keys held back (a parent with a quarantined child, or a child of a held parent) left out;
- `quarantine.<source>__<table>`: rows a rule broke, with stage, rule, column and reason;
- `quarantine.<source>__<table>__unclassified`: values of fields the contract does not name;
- `quarantine.<source>__<table>__holds`: hold/release decisions on this table's keys;
- `quarantine.<source>__<table>__publications`: one row per batch published or blocked.
"""

from __future__ import annotations

from resources.bigquery.schemas import (
    BATCH_SCHEMA,
    HOLDS_SCHEMA,
    PUBLICATIONS_SCHEMA,
    QUARANTINE_SCHEMA,
    UNCLASSIFIED_SCHEMA,
    fields,
)
from resources.bigquery.settings import Names, sql_id, sql_string
from resources.bigquery.warehouse import JobCost, Warehouse
from resources.raw_zone.layout import TableRef

LATEST = ("ROW_NUMBER() OVER (PARTITION BY _pk "
          "ORDER BY _modified_at DESC, _batch_id DESC, _row DESC)")


def ensure_datasets(warehouse: Warehouse, refs: list[TableRef]) -> None:
    """The raw datasets of `refs`, the quarantine and the staging dataset, in the location the
    settings name (an existing dataset elsewhere stops the run: `Warehouse.dataset`)."""
    names, settings = warehouse.names, warehouse.settings
    for dataset in sorted({names.raw_dataset(ref) for ref in refs}):
        warehouse.dataset(dataset)
    warehouse.dataset(names.dataset(settings.quarantine_dataset))
    # The dataset's default expiration is a second net under each staging table's own.
    expiry_ms = int(settings.staging_expiry.total_seconds() * 1000)
    warehouse.dataset(names.dataset(settings.staging_dataset),
                      default_table_expiration_ms=expiry_ms)


def ensure_tables(warehouse: Warehouse, ref: TableRef, costs: list[JobCost]) -> None:
    """The tables of `ref` (and the holds tables of its parents, which its view reads), then its
    current-state view, re-created so its definition follows this code."""
    names = warehouse.names
    tables = [(names.batches(ref), BATCH_SCHEMA), (names.quarantine(ref), QUARANTINE_SCHEMA),
              (names.unclassified(ref), UNCLASSIFIED_SCHEMA), (names.holds(ref), HOLDS_SCHEMA),
              (names.publications(ref), PUBLICATIONS_SCHEMA)]
    tables += [(names.holds(parent), HOLDS_SCHEMA) for _, parent in ref.parents]
    for table_id, schema in tables:
        if warehouse.table(table_id) is None:
            warehouse.create_table(table_id, fields(schema))
    warehouse.query(view_statement(names, ref), f"creating the view {names.current(ref)}",
                    costs=costs)


def view_statement(names: Names, ref: TableRef) -> str:
    """`CREATE OR REPLACE VIEW raw_<source>.<table>` (see the module docstring)."""
    batches = sql_id(names.batches(ref))
    kept = [f"_pk NOT IN ({held_keys(names, ref)})"]
    for key_path, parent in ref.parents:
        key = record_key(key_path)
        kept.append(f"({key} IS NULL OR {key} NOT IN ({held_keys(names, parent)}))")
    where = " AND ".join(kept)
    if ref.snapshot:
        body = (f"SELECT * FROM {batches} WHERE _batch_id = (SELECT MAX(_batch_id) FROM {batches})"
                f" AND {where}")
    else:
        # QUALIFY with a WHERE: BigQuery has refused a QUALIFY without WHERE, GROUP BY or HAVING.
        body = f"SELECT * FROM {batches} WHERE {where} QUALIFY {LATEST} = 1"
    return f"CREATE OR REPLACE VIEW {sql_id(names.current(ref))} AS {body}"


def record_key(key_path: str) -> str:
    """A parent's key in `record` (at `key_path`, e.g. `$.order_id`) as INT64, NULL if absent."""
    return f"SAFE_CAST(JSON_VALUE(record, {sql_string(key_path)}) AS INT64)"


def held_keys(names: Names, ref: TableRef) -> str:
    """The keys of `ref` held now: the latest decision per key (by child batch) holds them."""
    return ("SELECT _pk FROM (SELECT _pk, held, ROW_NUMBER() OVER (PARTITION BY _pk ORDER BY "
            f"_batch_id DESC, _decided_at DESC) AS latest FROM {sql_id(names.holds(ref))}) "
            "WHERE latest = 1 AND held")
