"""dbt's compiled SQL, rewritten so that openlineage-sql can follow its columns.

openlineage-sql (which `DbtArtifactProcessor` uses for `columnLineage`) knows no table's columns,
so it cannot see through `select *`, and every model here starts with
`with source as (select * from ...)` and ends with `select * from final`: it finds no column
lineage at all. sqlglot can expand those stars given each relation's columns, so the models are
qualified in dependency order, each one's output columns becoming the schema of its children.
The sources' columns are the ones their YAML declares (generated from the contracts).

Staging models read fields out of the raw zone's `record` JSON column, while the same fields are
published as contract columns next to it (named after the field: see
`resources/raw_zone/views.py`), and those columns carry the PII classes. A read of `record`
at `$.key...` is therefore pointed at the column named after its top-level key
(`$.billing_address.city` comes from `billing_address`), else after its leaf, when the model's
sources publish one; so is an element of the list a staging model reads all its paths into
at once (`record_fields[3]`). An element of an unnested array is pointed at the array's column. The
rewritten SQL is for lineage only, never run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import sqlglot
from sqlglot import exp, jsonpath
from sqlglot.optimizer.qualify import qualify

LOG = logging.getLogger("commerce_governance.lineage")
RECORD = "record"  # the raw zone's envelope column holding the whole source record as JSON
_Schema = dict[str, dict[str, dict[str, dict[str, str]]]]


def _put(schema: _Schema, node: dict[str, Any], table: str, columns: Iterable[str]) -> None:
    tables = schema.setdefault(node.get("database") or "", {}).setdefault(node["schema"], {})
    tables[table] = {column: "UNKNOWN" for column in columns}  # only names matter here


def _json_field(path: exp.Expression, columns: set[str]) -> str | None:
    """The contract column a JSON path reads, if the sources publish one."""
    keys = [str(part.this) for part in path.expressions if isinstance(part, exp.JSONPathKey)]
    for key in keys[:1] + keys[-1:]:  # the top-level field, else the flattened leaf
        if key in columns:
            return key
    return None


def _point_json_reads_at_columns(tree: exp.Expression, columns: set[str]) -> None:
    for read in list(tree.find_all(exp.JSONExtract, exp.JSONExtractScalar)):
        target, path = read.this, read.expression
        if not (isinstance(target, exp.Column) and target.name == RECORD):
            continue
        if isinstance(path, exp.JSONPath) and (field := _json_field(path, columns)):
            read.replace(exp.column(field, table=target.table or None))


def _record_field_lists(tree: exp.Expression) -> dict[str, list[str]]:
    """{alias: paths} of each `json_extract_string(record, ['$.a', ...]) AS alias`: a staging
    model's one parse of its record (transformer/macros/cross_db/json.sql)."""
    found = {}
    for alias in tree.find_all(exp.Alias):
        read = alias.this
        if (isinstance(read, exp.JSONExtractScalar) and isinstance(read.this, exp.Column)
                and read.this.name == RECORD and isinstance(read.expression, exp.Array)):
            found[alias.alias] = [path.name for path in read.expression.expressions]
    return found


def _point_record_fields_at_columns(tree: exp.Expression, columns: set[str]) -> None:
    # `record_fields[3]` is the third path of the list: pointed at the column that path reads
    lists = _record_field_lists(tree)
    for element in list(tree.find_all(exp.Bracket)):
        target, index = element.this, element.expressions
        if not (isinstance(target, exp.Column) and target.name in lists and len(index) == 1
                and isinstance(index[0], exp.Literal) and not index[0].is_string):
            continue
        paths, position = lists[target.name], int(index[0].this)  # sqlglot counts from 0
        if 0 <= position < len(paths) and (
                field := _json_field(jsonpath.parse(paths[position]), columns)):
            element.replace(exp.column(field, table=target.table or None))


def _point_unnested_elements_at_arrays(tree: exp.Expression) -> None:
    # `cross join unnest(<array>) as item_rows(item, ...)`: openlineage-sql sees `item_rows`
    # as a table of its own, so an element is pointed at the column the array comes from.
    for unnest in list(tree.find_all(exp.Unnest)):
        alias = unnest.args.get("alias")
        arrays = [c for e in unnest.expressions for c in e.find_all(exp.Column)]
        if not alias or len(arrays) != 1:
            continue
        for column in list(tree.find_all(exp.Column)):
            if column.table == alias.name:
                column.replace(arrays[0].copy())


def _dependency_order(manifest: dict[str, Any]) -> list[str]:
    nodes = manifest.get("nodes", {})
    order: list[str] = []
    seen: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in seen or unique_id not in nodes:
            return
        seen.add(unique_id)
        for parent in nodes[unique_id].get("depends_on", {}).get("nodes", []):
            visit(parent)
        order.append(unique_id)

    for unique_id in nodes:
        if unique_id.startswith(("model.", "snapshot.")):
            visit(unique_id)
    return [u for u in order if u.startswith(("model.", "snapshot."))]


def lineage_sql(manifest: dict[str, Any], dialect: str | None) -> dict[str, str]:
    """Each compiled model's SQL with stars expanded and JSON reads resolved, keyed by the
    compiled SQL; a model sqlglot cannot read keeps its SQL (and loses only its own lineage)."""
    schema: _Schema = {}
    source_columns: dict[str, set[str]] = {}
    for unique_id, source in manifest.get("sources", {}).items():
        _put(schema, source, source["identifier"] or source["name"], source.get("columns", {}))
        source_columns[unique_id] = set(source.get("columns", {}))
    rewritten: dict[str, str] = {}
    for unique_id in _dependency_order(manifest):
        node = manifest["nodes"][unique_id]
        compiled = node.get("compiled_code") or ""
        declared = list(node.get("columns", {}))
        if not compiled:  # not part of this invocation: its YAML is all we know
            _put(schema, node, node["alias"], declared)
            continue
        try:
            tree = qualify(sqlglot.parse_one(compiled, dialect=dialect), schema=schema,
                           dialect=dialect, validate_qualify_columns=False,
                           quote_identifiers=False)
            parents = node.get("depends_on", {}).get("nodes", [])
            read = set().union(*(source_columns.get(p, set()) for p in parents))
            _point_json_reads_at_columns(tree, read - {RECORD})
            _point_record_fields_at_columns(tree, read - {RECORD})
            _point_unnested_elements_at_arrays(tree)
            rewritten[compiled] = tree.sql(dialect=dialect)
            _put(schema, node, node["alias"], tree.named_selects or declared)
        except (sqlglot.errors.SqlglotError, ValueError, KeyError) as error:
            LOG.warning("column lineage of %s left to the raw SQL: %s", unique_id,
                        str(error).splitlines()[0][:200])
            _put(schema, node, node["alias"], declared)
    return rewritten
