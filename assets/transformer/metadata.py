"""Row counts and column types for the models a `dbt build` produced, read once dbt has exited.

DuckDB admits one process per database file, so nothing can query the warehouse while the dbt
subprocess holds it: the counts (and the failed tests' stored rows, `results`) are read right
after it exits, still under the warehouse lock, with one read-only connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
import duckdb


def model_relation(node: Mapping[str, Any]) -> str:
    """`"schema"."alias"`: the database part of dbt's `relation_name` is the warehouse file's
    name at parse time, which need not be this run's file."""
    return f'"{node["schema"]}"."{node["alias"]}"'


def model_metadata(
    connection: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], unique_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """`dagster/row_count` and `dagster/column_schema` per built model's unique id."""
    found: dict[str, dict[str, Any]] = {}
    for unique_id in unique_ids:
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] != "model":
            continue
        relation = model_relation(node)
        (rows,) = connection.execute(f"SELECT count(*) FROM {relation}").fetchone()
        described = connection.execute(f"DESCRIBE {relation}").fetchall()
        documented = node.get("columns", {})
        columns = [
            dg.TableColumn(
                name, str(kind), description=documented.get(name, {}).get("description") or None
            )
            for name, kind, *_ in described
        ]
        found[unique_id] = {
            "dagster/row_count": rows,
            "dagster/column_schema": dg.TableSchema(columns=columns),
        }
    return found
