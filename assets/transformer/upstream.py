"""Whether a failed dbt test's rows trace to rows the raw zone quarantined or held upstream.

Found from the data, not from names: the values of each id-like column of the stored failing
rows are looked up among the keys of the quarantined and held rows of every raw table the test
reads through its models (its ancestor sources in the manifest). A quarantined row's keys are
its own primary key and its parents' keys (the contract's relations, `TableRef.parents`); a
held row's is its primary key. Only when some value matches is there a query, one per table
and key, that lists those upstream rows for a steward to run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from assets.transformer.metadata import model_relation
from assets.transformer.stored_failures import tested_column
from resources.raw_zone.holds import held_keys_sql
from resources.raw_zone.layout import TableRef, ZonePaths

MAX_TRACED_VALUES = 1_000  # distinct ids per column looked up; the query names the matches


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


def _id_like(name: str) -> bool:
    return name == "id" or name.endswith("_id") or name == "_pk"


def _record_key(key_path: str) -> str:
    path = "'" + key_path.replace("'", "''") + "'"
    return f"TRY_CAST(json_extract_string(record, {path}) AS BIGINT)"


def _keys(paths: ZonePaths, ref: TableRef) -> list[tuple[str, str, str, str]]:
    """(relation listing the rows, key expression, key's field name, SQL of its keys) for each
    key of the table's quarantined and held rows."""
    keys = []
    if paths.has_batches(ref, zone="quarantine"):
        view = ref.quarantine_view
        keys.append((view, "_pk", "_pk", f"SELECT _pk FROM {view}"))
        for path, _ in ref.parents:
            key = _record_key(path)
            keys.append((view, key, path.rsplit(".", 1)[-1], f"SELECT {key} FROM {view}"))
    held = held_keys_sql(paths, ref)
    if held is not None:
        holds = "'" + str(paths.glob(ref, zone="holds")).replace("'", "''") + "'"
        keys.append((f"read_parquet({holds}, union_by_name = true)", "_pk", "_pk", held))
    return keys


def _ids(connection: duckdb.DuckDBPyConnection, relation: str, column: str) -> list[int]:
    rows = connection.execute(
        f'SELECT DISTINCT TRY_CAST("{column}" AS BIGINT) AS v FROM {relation} '
        f"WHERE v IS NOT NULL ORDER BY v LIMIT {MAX_TRACED_VALUES}").fetchall()
    return [row[0] for row in rows]


def _matches(connection: duckdb.DuckDBPyConnection, keys_sql: str, ids: list[int]) -> set[int]:
    found = connection.execute(f"SELECT DISTINCT k FROM ({keys_sql}) AS upstream(k) "
                               f"WHERE k IN ({', '.join(map(str, ids))})").fetchall()
    return {row[0] for row in found}


def upstream_quarantine(connection: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any],
                        node: Mapping[str, Any], paths: ZonePaths,
                        refs: Mapping[str, TableRef]) -> str | None:
    """Queries listing the quarantined or held upstream rows the failing rows' ids name, or
    None. `refs` maps a source's unique id to its raw-zone table.

    Ids are small integers in every table, so one value can be a key of several: when a
    column's values match several keys, the keys named like the column win (`order_id` the
    lines' `$.order_id`, not their own ids); else every matching key is listed.
    """
    relation = model_relation(node)
    columns = [row[0] for row in connection.execute(f"DESCRIBE {relation}").fetchall()]
    upstream = sorted({refs[s] for s in ancestor_sources(manifest, node["unique_id"]) if s in refs},
                      key=lambda ref: ref.qualified_name)
    keys = [key for ref in upstream for key in _keys(paths, ref)]
    listed: dict[tuple[str, str], set[int]] = {}
    for column in (c for c in columns if _id_like(tested_column(c, node))):
        ids = _ids(connection, relation, column)
        if not ids:
            continue
        found = [(rows, key, name, _matches(connection, sql, ids)) for rows, key, name, sql in keys]
        found = [match for match in found if match[3]]
        named = [match for match in found if match[2] == tested_column(column, node)]
        for rows, key, _, matched in named or found:
            listed.setdefault((rows, key), set()).update(matched)
    queries = [f"SELECT * FROM {rows} WHERE {key} IN ({', '.join(map(str, sorted(matched)))})"
               + (" AND held" if rows.startswith("read_parquet") else "")
               for (rows, key), matched in listed.items()]
    return ";\n".join(queries) + ";" if queries else None
