"""Whether a failed dbt test's rows trace to rows the raw zone quarantined or held upstream.

Found from the data, not from names: the values of each id-like column of the stored failing
rows are looked up among the keys of the quarantined and held rows of every raw table the test
reads through its models (its ancestor sources in the manifest). A quarantined row's keys are
its own primary key and its parents' keys (the contract's relations, `TableRef.parents`); a
held row's is its primary key. Only when some value matches is there a query, one per table
and key, that lists those upstream rows for a steward to run.

The search (`trace`) is the same in both warehouses; only the SQL that names the quarantined
and held rows differs: the local zone's views and Parquet holds here (`upstream_quarantine`),
the `quarantine` dataset's tables on BigQuery (`bigquery_results.upstream_quarantine`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from assets.transformer.metadata import model_relation
from assets.transformer.stored_failures import tested_column
from resources.raw_zone.holds import held_keys_sql, parent_key_sql
from resources.raw_zone.layout import TableRef, ZonePaths

MAX_TRACED_VALUES = 1_000  # distinct ids per column looked up; the query names the matches

Rows = Callable[[str], list[tuple]]  # runs a query in the warehouse, returns its rows


@dataclass(frozen=True)
class UpstreamKey:
    """One key of one raw table's quarantined or held rows."""

    rows: str  # the relation listing the rows, as the steward's query names it
    key: str  # the key's expression over `rows`
    name: str  # the key's field name: `_pk`, or the last step of a parent key's path
    keys_sql: str  # a query of the keys that count now, as one column `k`
    held: bool = False  # a holds table: list only the decisions that hold


def ancestor_sources(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    """Every source the node reads, through any number of models."""
    seen, found, todo = set(), set(), [unique_id]
    while todo:
        node = manifest.get("nodes", {}).get(todo.pop(), {})
        for parent in node.get("depends_on", {}).get("nodes", []):
            if parent.startswith("source."):
                found.add(parent)
            elif parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return found


def upstream_tables(manifest: Mapping[str, Any], node: Mapping[str, Any],
                    refs: Mapping[str, TableRef]) -> list[TableRef]:
    """The raw tables the test reads, in a stable order. `refs`: a source's unique id -> its
    raw-zone table."""
    return sorted({refs[s] for s in ancestor_sources(manifest, node["unique_id"]) if s in refs},
                  key=lambda ref: ref.qualified_name)


def _id_like(name: str) -> bool:
    return name == "id" or name.endswith("_id") or name == "_pk"


def trace(node: Mapping[str, Any], columns: list[str], keys: list[UpstreamKey], rows: Rows,
          ids_sql: Callable[[str], str]) -> str | None:
    """Queries listing the upstream rows the failing rows' ids name, or None. `columns`: the
    stored failing rows' columns; `ids_sql(column)`: the query of a column's distinct ids.

    Ids are small integers in every table, so one value can be a key of several: when a
    column's values match several keys, the keys named like the column win (`order_id` the
    lines' `$.order_id`, not their own ids); else every matching key is listed.
    """
    if not keys:
        return None
    listed: dict[UpstreamKey, set[int]] = {}
    for column in (c for c in columns if _id_like(tested_column(c, node))):
        ids = [row[0] for row in rows(ids_sql(column))]
        if not ids:
            continue
        values = ", ".join(map(str, ids))
        found = [(key, {row[0] for row in rows(
                     f"SELECT DISTINCT k FROM ({key.keys_sql}) AS upstream WHERE k IN ({values})")})
                 for key in keys]
        found = [(key, matched) for key, matched in found if matched]
        named = [(key, matched) for key, matched in found
                 if key.name == tested_column(column, node)]
        for key, matched in named or found:
            listed.setdefault(key, set()).update(matched)
    queries = [f"SELECT * FROM {key.rows} WHERE {key.key} IN ({', '.join(map(str, sorted(m)))})"
               + (" AND held" if key.held else "") for key, m in listed.items()]
    return ";\n".join(queries) + ";" if queries else None


def quarantine_keys(rows: str, ref: TableRef,
                    record_key: Callable[[str], str]) -> list[UpstreamKey]:
    """The keys of a quarantine relation `rows`: its own `_pk`, and each parent's key read from
    `record` by `record_key(path)`, the warehouse's expression for it."""
    keys = [UpstreamKey(rows, "_pk", "_pk", f"SELECT _pk AS k FROM {rows}")]
    for path, _ in ref.parents:
        key = record_key(path)
        keys.append(UpstreamKey(rows, key, path.rsplit(".", 1)[-1],
                                f"SELECT {key} AS k FROM {rows}"))
    return keys


def _keys(paths: ZonePaths, ref: TableRef) -> list[UpstreamKey]:
    """The keys of the table's quarantined and held rows in the local zone."""
    keys = []
    if paths.has_batches(ref, zone="quarantine"):
        keys += quarantine_keys(ref.quarantine_view, ref, parent_key_sql)
    held = held_keys_sql(paths, ref)
    if held is not None:
        holds = "'" + str(paths.glob(ref, zone="holds")).replace("'", "''") + "'"
        keys.append(UpstreamKey(f"read_parquet({holds}, union_by_name = true)", "_pk", "_pk",
                                f"SELECT _pk AS k FROM ({held}) AS held_now", held=True))
    return keys


def upstream_quarantine(connection: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any],
                        node: Mapping[str, Any], paths: ZonePaths,
                        refs: Mapping[str, TableRef]) -> str | None:
    """`trace` in the DuckDB warehouse and the local raw zone. `refs` maps a source's unique
    id to its raw-zone table."""
    relation = model_relation(node)
    columns = [row[0] for row in connection.execute(f"DESCRIBE {relation}").fetchall()]
    keys = [key for ref in upstream_tables(manifest, node, refs) for key in _keys(paths, ref)]

    def ids_sql(column: str) -> str:
        return (f'SELECT DISTINCT TRY_CAST("{column}" AS BIGINT) AS v FROM {relation} '
                f"WHERE v IS NOT NULL ORDER BY v LIMIT {MAX_TRACED_VALUES}")

    return trace(node, columns, keys, lambda sql: connection.execute(sql).fetchall(), ids_sql)
