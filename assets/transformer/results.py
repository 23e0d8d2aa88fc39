"""What a `dbt build` adds to its Dagster events once dbt has exited.

Models get their row counts and column types (`metadata`); every dbt test's check result gets
the description its spec carries (`GovernanceTranslator.get_check_description`) and, when it
failed, its stored failing rows masked (`stored_failures`) and, when they trace to rows the
raw zone quarantined or held, the query listing those (`upstream`). All of it is read on one
read-only connection, under the warehouse lock the caller holds: DuckDB admits one process
per file, and dbt has just let go of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb

from assets.transformer.metadata import model_metadata
from assets.transformer.stored_failures import stored_failures
from assets.transformer.upstream import upstream_quarantine
from resources.raw_zone.layout import ZonePaths
from resources.transformer import duckdb_memory_limit

if TYPE_CHECKING:
    from assets.transformer.translator import GovernanceTranslator


def unique_id(event: Any) -> str | None:
    value = getattr(event, "metadata", {}).get("unique_id")
    return getattr(value, "value", value)


def failed_tests(events: Iterable[Any]) -> list[str]:
    return [i for e in events if isinstance(e, dg.AssetCheckResult) and not e.passed
            and (i := unique_id(e))]


def failure_metadata(connection: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any],
                     node: Mapping[str, Any], paths: ZonePaths,
                     translator: GovernanceTranslator, log: dg.DagsterLogManager) -> dict[str, Any]:
    """A failed test's sample, count and upstream query; tracing upstream never fails the step."""
    found = stored_failures(connection, manifest, node)
    if not found:
        return found
    try:
        query = upstream_quarantine(connection, manifest, node, paths,
                                    translator.get_raw_tables(manifest))
    except duckdb.Error as error:
        log.warning(f"{node['name']}: its failing rows were not traced upstream ({error})")
        query = None
    return {**found, **({"upstream_quarantine": dg.MetadataValue.text(query)} if query else {})}


def read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection under the memory limit dbt builds with: a failed test's
    upstream trace runs the raw zone's current views (a latest-version-per-key window), and
    an uncapped read-back once took the step process from 363 MB to 1,897 MB at 1M orders."""
    return duckdb.connect(str(warehouse), read_only=True, config={
        "memory_limit": duckdb_memory_limit(), "preserve_insertion_order": False})


def read_after_build(warehouse: Path, manifest: Mapping[str, Any], events: list[Any],
                     paths: ZonePaths, translator: GovernanceTranslator, log: dg.DagsterLogManager,
                     stored_failures_here: bool) -> dict[str, dict[str, Any]]:
    """Extra metadata per unique id: built models' counts, failed tests' stored rows (only on
    a target whose audit tables live in the warehouse file)."""
    built = [unique_id(e) for e in events if isinstance(e, dg.Output)]
    connection = read_only(warehouse)
    try:
        extra = model_metadata(connection, manifest, filter(None, built), log)
        for test_id in failed_tests(events) if stored_failures_here else []:
            node = manifest["nodes"][test_id]
            extra[test_id] = failure_metadata(connection, manifest, node, paths, translator, log)
    finally:
        connection.close()
    return extra


def column_types(warehouse: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Every table's and view's column types in the DuckDB warehouse, by (schema, table).

    For lineage: Marquez tells fields apart by name and type, and a field sent without a type
    is a new row in its database at every event (NULL never equals NULL), so the models'
    columns that dbt's YAML leaves untyped get the warehouse's own type."""
    connection = read_only(warehouse)
    try:
        rows = connection.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns()"
            " WHERE database_name = current_database()").fetchall()
    finally:
        connection.close()
    found: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, data_type in rows:
        found.setdefault((schema, table), {})[column] = data_type
    return found


def enriched(event: Any, extra: Mapping[str, dict[str, Any]], manifest: Mapping[str, Any],
             translator: GovernanceTranslator) -> Any:
    """The event with its extra metadata, and a check result with its test's description."""
    found = extra.get(unique_id(event) or "")
    if found:
        event = event.with_metadata({**event.metadata, **found})
    if isinstance(event, dg.AssetCheckResult) and (test_id := unique_id(event)):
        # AssetCheckResult is a NamedTuple: `_replace` keeps every other field as dagster-dbt set it
        event = event._replace(description=translator.get_check_description(manifest, test_id))
    return event
