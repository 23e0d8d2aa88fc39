"""What a `dbt build` on BigQuery adds to its Dagster events, as `results` does on DuckDB.

Built models get their columns and types from the table's metadata (no query, nothing scanned)
and tables their row counts (one COUNT(*) job for all, answered from metadata; a view's count
would cost a scan, so views get none). A failed
test's stored rows (`store_failures`: `<project>.analytics_audit.<test alias>`) are counted and
sampled, masked as on DuckDB (`stored_failures.failure_metadata`): two small queries per failed
test, none when every test passes. Lineage gets every model's and source's column types from
the same metadata, since Marquez stores an untyped field anew at every event (`results.
column_types`). A failed test's rows are traced to the quarantined and held rows of the raw
tables it reads (`upstream.trace`) in the `quarantine` dataset's tables: a query per id-like
column and key, only when a test failed and its tables hold something.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

from assets.transformer.results import failed_tests, unique_id
from assets.transformer.stored_failures import SAMPLE_ROWS, failure_metadata
from assets.transformer.upstream import (
    MAX_TRACED_VALUES,
    UpstreamKey,
    quarantine_keys,
    trace,
    upstream_tables,
)
from resources.bigquery.errors import BigQueryError
from resources.bigquery.settings import sql_id
from resources.bigquery.tables import held_keys, record_key
from resources.bigquery.warehouse import Warehouse
from resources.raw_zone.layout import TableRef

Extra = dict[str, dict[str, Any]]
ColumnTypes = dict[tuple[str, str], dict[str, str]]


def read_after_build(warehouse: Warehouse, manifest: Mapping[str, Any], events: list[Any],
                     refs: Mapping[str, TableRef],
                     log: dg.DagsterLogManager) -> tuple[Extra, ColumnTypes]:
    """(extra metadata per unique id, column types for lineage); `refs`: the raw-zone table of
    each source (`GovernanceTranslator.get_raw_tables`). BigQuery failing here costs the
    metadata, never the step: dbt has built and tested already."""
    try:
        built = filter(None, (unique_id(e) for e in events if isinstance(e, dg.Output)))
        extra = model_metadata(warehouse, manifest, built)
        for test_id in failed_tests(events):
            node = manifest["nodes"][test_id]
            extra[test_id] = stored_failures(warehouse, manifest, node)
            query = upstream_quarantine(warehouse, manifest, node, refs) if extra[test_id] else None
            if query:
                extra[test_id]["upstream_quarantine"] = dg.MetadataValue.text(query)
        return extra, column_types(warehouse, manifest)
    except BigQueryError as error:
        log.warning(f"the build's row counts, failing samples and column types were not read "
                    f"from BigQuery: {error}")
        return {}, {}


def table_id(warehouse: Warehouse, node: Mapping[str, Any]) -> str:
    """`project.dataset.table` of a model, test or source node, in this run's project."""
    name = node.get("alias") or node.get("identifier") or node["name"]
    return f"{warehouse.settings.project}.{node['schema']}.{name}"


def model_metadata(warehouse: Warehouse, manifest: Mapping[str, Any],
                   unique_ids: Iterable[str]) -> Extra:
    """`dagster/column_schema` (and `dagster/row_count` for tables) per built model."""
    found: Extra = {}
    tables: dict[str, str] = {}  # unique id -> relation, for the tables' row counts
    for node_id in unique_ids:
        node = manifest["nodes"].get(node_id)
        if node is None or node["resource_type"] != "model":
            continue
        table = warehouse.table(table_id(warehouse, node))
        if table is None:
            continue
        documented = node.get("columns", {})
        columns = [dg.TableColumn(field.name, field.field_type,
                                  description=documented.get(field.name, {}).get("description")
                                  or None)
                   for field in table.schema]
        found[node_id] = {"dagster/column_schema": dg.TableSchema(columns=columns)}
        if table.table_type == "TABLE":
            tables[node_id] = f"`{table_id(warehouse, node)}`"
    if tables:
        # One job for every table's count: BigQuery answers COUNT(*) of a whole table from its
        # metadata (0 bytes billed); the table's own `num_rows` would do as much, but the
        # emulator leaves it 0 for a table made by CREATE TABLE AS SELECT.
        counts = warehouse.query(" UNION ALL ".join(
            f"SELECT '{node_id}', COUNT(*) FROM {relation}"
            for node_id, relation in tables.items()), "counting the built tables")
        for node_id, rows in counts:
            found[node_id]["dagster/row_count"] = int(rows)
    return found


def stored_failures(warehouse: Warehouse, manifest: Mapping[str, Any],
                    node: Mapping[str, Any]) -> dict[str, Any]:
    """`failure_metadata` of a failed test's stored rows; empty when dbt stored none."""
    relation = table_id(warehouse, node)
    table = warehouse.table(relation)
    if table is None:
        return {}
    quoted = f"`{relation}`"
    ((total,),) = warehouse.query(f"SELECT COUNT(*) FROM {quoted}", f"counting {relation}")
    rows = warehouse.query(f"SELECT * FROM {quoted} LIMIT {SAMPLE_ROWS}",
                           f"sampling {relation}")
    described = [(field.name, field.field_type) for field in table.schema]
    return failure_metadata(int(total), described, rows, manifest, node, quoted)


def _keys(warehouse: Warehouse, ref: TableRef) -> list[UpstreamKey]:
    """The keys of the table's quarantined and held rows, in the `quarantine` dataset (tables
    the zone creates with the table, so only a table never published has none)."""
    names, keys = warehouse.names, []
    if warehouse.table(names.quarantine(ref)) is not None:
        keys += quarantine_keys(sql_id(names.quarantine(ref)), ref, record_key)
    if warehouse.table(names.holds(ref)) is not None:
        keys.append(UpstreamKey(sql_id(names.holds(ref)), "_pk", "_pk",
                                f"SELECT _pk AS k FROM ({held_keys(names, ref)}) AS held_now",
                                held=True))
    return keys


def upstream_quarantine(warehouse: Warehouse, manifest: Mapping[str, Any],
                        node: Mapping[str, Any], refs: Mapping[str, TableRef]) -> str | None:
    """`upstream.trace` on BigQuery: the queries listing the quarantined or held rows the
    failed test's stored rows name, or None."""
    relation = table_id(warehouse, node)
    table = warehouse.table(relation)
    keys = [key for ref in upstream_tables(manifest, node, refs) for key in _keys(warehouse, ref)]
    if table is None or not keys:
        return None

    def ids_sql(column: str) -> str:
        value = f"SAFE_CAST(`{column}` AS INT64)"
        return (f"SELECT DISTINCT {value} AS v FROM {sql_id(relation)} WHERE {value} IS NOT NULL "
                f"ORDER BY v LIMIT {MAX_TRACED_VALUES}")

    return trace(node, [field.name for field in table.schema], keys,
                 lambda sql: warehouse.query(sql, f"tracing {node['name']} upstream"), ids_sql)


def column_types(warehouse: Warehouse, manifest: Mapping[str, Any]) -> ColumnTypes:
    """Every model's and source's column types, by (dataset, table), from table metadata."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    nodes = [*manifest.get("nodes", {}).values(), *manifest.get("sources", {}).values()]
    for node in nodes:
        if node["resource_type"] not in ("model", "source"):
            continue
        table = warehouse.table(table_id(warehouse, node))
        if table is not None:
            found[(node["schema"], table.table_id)] = {
                field.name: field.field_type for field in table.schema}
    return found
