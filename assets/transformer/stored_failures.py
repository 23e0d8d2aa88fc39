"""A failed dbt test's failing rows, as its Dagster check shows them: masked, at most 20.

dbt stores every test's failing rows (`store_failures`, dbt_project.yml) in a table of the
audit schema (`analytics_audit.<test alias>` on DuckDB), replaced on every run. They are read
after dbt exits, on the connection the model counts use (`metadata`). A value is shown only if
its column is documented without a PII class: on a model or source the test reads, or in the
test's own `meta.columns` (data-tests/_data_tests.yml) for a column it computes. Any other
column is masked as unclassified, a PII column by its class (`checks.masking.mask`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import dagster as dg
import duckdb

from assets.transformer.metadata import model_relation
from checks.drift import UNCLASSIFIED
from checks.masking import mask

SAMPLE_ROWS = 20
# dbt's generic tests store the tested column under these names (unique, accepted_values,
# relationships): it is the tested column, with its class.
TESTED_COLUMN_ALIASES = ("unique_field", "value_field", "from_field")
COUNT_COLUMN = "n_records"  # the count dbt's generic tests (and ours) store beside a value
RECORD_COLUMN = "record"  # a raw-zone source's whole record as JSON: every field, PII included


def _meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return props.get("config", {}).get("meta") or props.get("meta") or {}


def _parents(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [manifest.get("nodes", {}).get(i) or manifest.get("sources", {}).get(i)
             for i in node.get("depends_on", {}).get("nodes", [])]
    return [parent for parent in found if parent]


def _record_class(columns: Mapping[str, Any]) -> str | None:
    """The classes of a source's PII fields, all of which its `record` carries."""
    classes = sorted({str(_meta(c)["pii"]) for c in columns.values() if _meta(c).get("pii")})
    return ", ".join(classes) or None


def tested_column(column: str, node: Mapping[str, Any]) -> str:
    """The model's column a stored column holds: dbt's alias mapped back to the tested column."""
    tested = (node.get("test_metadata") or {}).get("kwargs", {}).get("column_name")
    return tested if tested and column in TESTED_COLUMN_ALIASES else column


def column_classes(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> dict[str, str | None]:
    """Every documented column the test's stored rows may hold, with its PII class (None:
    documented without one). A name PII on any model the test reads is PII."""
    classes: dict[str, str | None] = {COUNT_COLUMN: None}
    for parent in _parents(manifest, node):
        columns = parent.get("columns", {})
        for name, column in columns.items():
            classes[name] = _meta(column).get("pii") or classes.get(name)
        if parent["resource_type"] == "source":
            classes[RECORD_COLUMN] = _record_class(columns)
    for name, column in (_meta(node).get("columns") or {}).items():
        classes[name] = (column or {}).get("pii")
    return classes


def _shown(value: Any, pii: str | None) -> str | int | float | bool:
    """A value as a table cell may hold it: numbers as they are when not PII, else masked."""
    if pii is None and isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal | dt.date | dt.datetime | dt.time):
        value = str(value)
    return mask(value, pii)


def _sample(described: list[tuple], rows: list[tuple], classes: Mapping[str, str | None],
            node: Mapping[str, Any]) -> dg.TableMetadataValue:
    """The rows as a table, each column masked by its class (unclassified if undocumented)."""
    pii = {name: classes.get(tested_column(name, node), UNCLASSIFIED) for name, *_ in described}
    records = [dg.TableRecord({n: _shown(v, pii[n]) for n, v in zip(pii, row, strict=True)})
               for row in rows]
    columns = [dg.TableColumn(name, "string" if pii[name] else str(kind),
                              description=f"masked ({pii[name]})" if pii[name] else None)
               for name, kind, *_ in described]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))


def failure_metadata(total: int, described: list[tuple], rows: list[tuple],
                     manifest: Mapping[str, Any], node: Mapping[str, Any],
                     relation: str) -> dict[str, Any]:
    """The check's failure metadata from a stored table's `total` count, its columns
    (name, type) and first rows: how many rows failed, a masked sample, where all are."""
    metadata: dict[str, Any] = {
        "rows_failing": total,
        "failing_sample": _sample(described, rows, column_classes(manifest, node), node),
        "stored_failures": dg.MetadataValue.text(f"SELECT * FROM {relation}"),
    }
    if total > SAMPLE_ROWS:
        metadata["failing_sample_note"] = (
            f"{SAMPLE_ROWS} of {total} failing rows shown, {total - SAMPLE_ROWS} left out: "
            f"all are in {relation}")
    return metadata


def stored_failures(connection: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any],
                    node: Mapping[str, Any]) -> dict[str, Any]:
    """`failure_metadata` of a test's rows stored in the DuckDB warehouse. Empty when dbt
    stored nothing (the test could not run)."""
    relation = model_relation(node)
    try:
        (total,) = connection.execute(f"SELECT count(*) FROM {relation}").fetchone()
    except duckdb.CatalogException:
        return {}
    cursor = connection.execute(f"SELECT * FROM {relation} LIMIT {SAMPLE_ROWS}")
    described = [(name, kind) for name, kind, *_ in cursor.description]
    return failure_metadata(total, described, cursor.fetchall(), manifest, node, relation)
