"""Row counts and column types for the models a `dbt build` produced, read once dbt has exited.

DuckDB admits one process per database file, so nothing can query the warehouse while the dbt
subprocess holds it: the counts (and the failed tests' stored rows, `results`) are read right
after it exits, still under the warehouse lock, with one read-only connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:  # imported where a connection opens: the code location loads without it
    import duckdb


def model_relation(node: Mapping[str, Any]) -> str:
    """`"schema"."alias"`: the database part of dbt's `relation_name` is the warehouse file's
    name at parse time, which need not be this run's file."""
    return f'"{node["schema"]}"."{node["alias"]}"'


def model_metadata(
    connection: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], unique_ids: Iterable[str],
    log: dg.DagsterLogManager | None = None,
) -> dict[str, dict[str, Any]]:
    """`dagster/row_count` and `dagster/column_schema` per built model's unique id. A count
    that fails (a view too large for the connection's memory limit) costs that model its row
    count, logged, not the step: the build itself has succeeded."""
    import duckdb

    found: dict[str, dict[str, Any]] = {}
    for unique_id in unique_ids:
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] != "model":
            continue
        relation = model_relation(node)
        try:
            (rows,) = connection.execute(f"SELECT count(*) FROM {relation}").fetchone()
        except duckdb.Error as error:
            if log is not None:
                log.warning(f"{node['name']}: no row count ({type(error).__name__}: "
                            f"{str(error).splitlines()[0][:200]})")
            rows = None
        described = connection.execute(f"DESCRIBE {relation}").fetchall()
        documented = node.get("columns", {})
        columns = [
            dg.TableColumn(
                name, str(kind), description=documented.get(name, {}).get("description") or None
            )
            for name, kind, *_ in described
        ]
        found[unique_id] = {"dagster/column_schema": dg.TableSchema(columns=columns),
                            **({"dagster/row_count": rows} if rows is not None else {})}
    return found
