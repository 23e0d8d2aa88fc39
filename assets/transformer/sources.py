"""The dbt sources files, generated from the extraction specs and their contracts.

dbt reads the raw zone through `sources:`; their tables, descriptions, owners and columns are
re-expressed from the contracts here, never written by hand, and a test fails when the files
in `transformer/` drift from what this module renders. Regenerate with
`python3 run.py contracts` after changing a contract.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from assets.spec import ExtractionSpec
from contracts.derive import ENVELOPE, published_description, sql_type
from resources.transformer import TRANSFORMER_DIR

SOURCES = {
    "bigcommerce": "BigCommerce REST API data as published by the extraction assets "
    "(write-audit-publish).",
    "wise": "Loyalty points and B2B quotations from the Wise PostgreSQL database (read through "
    "a SELECT-only role), as published by the extraction assets.",
}
HEADER = """\
# GENERATED from contracts/{source}/ by `python3 run.py contracts`: do not edit by hand.
# dbt reads only these published views, never the staging or quarantine zones: a batch is
# here only once it passed its contract's audits. Each `<table>` view is the current state
# (latest version of each key); `<table>__batches` keeps every published batch. The view has
# the envelope columns and the record as JSON text; the staging models parse the record. The
# columns after the envelope are the record's fields as the contract names them (description,
# type, PII class), documented for dbt's docs and for lineage, not columns of the view.
"""
# When a batch was extracted: a table is as fresh as its newest published batch.
LOADED_AT_FIELD = "_extracted_at"


def sources_path(source: str) -> Path:
    return TRANSFORMER_DIR / "models" / "staging" / source / f"_{source}__sources.yml"


def _envelope(spec: ExtractionSpec, *, batches: bool = False) -> list[dict[str, Any]]:
    columns = []
    for name, description in ENVELOPE:
        column: dict[str, Any] = {"name": name, "description": description}
        if name == "_pk":
            key = spec.contract.primary_key
            column["description"] = f"Primary key of the source record (`{key}`)."
            column["data_tests"] = ["not_null"] if batches else ["unique", "not_null"]
        columns.append(column)
    return columns


def _age(hours: float) -> dict[str, Any]:
    """dbt wants a whole count: 1.5 h is written as 90 minutes."""
    if float(hours).is_integer():
        return {"count": int(hours), "period": "hour"}
    return {"count": round(hours * 60), "period": "minute"}


def freshness_config(spec: ExtractionSpec) -> dict[str, Any]:
    """The table's dbt source freshness, from its contract (as its Dagster policy is)."""
    fresh = spec.contract.freshness
    return {"loaded_at_field": LOADED_AT_FIELD, "freshness": {
        "warn_after": _age(fresh.warn_after_hours), "error_after": _age(fresh.error_after_hours)}}


def _contract_columns(spec: ExtractionSpec) -> list[dict[str, Any]]:
    columns = []
    for column in spec.contract.columns:
        entry: dict[str, Any] = {
            "name": column.name,
            "description": column.description,
            "data_type": sql_type(column).lower(),
        }
        if column.pii:
            entry["config"] = {"meta": {"pii": column.pii}}
        columns.append(entry)
    return columns


def _table(spec: ExtractionSpec) -> list[dict[str, Any]]:
    owner = spec.owners[0]
    meta = {"dagster": {"asset_key": [spec.name]}, "owner": owner,
            "contract": f"contracts/{spec.contract.source}/{spec.contract.table}.py"}
    tables = [{
        "name": spec.contract.table,
        "description": published_description(spec.contract, spec.source_label),
        "config": {"meta": meta, **freshness_config(spec)},
        "columns": _envelope(spec) + _contract_columns(spec),
    }]
    # The history view has no freshness of its own: it is exactly as fresh as the table, and a
    # second result would give the one asset two verdicts.
    if spec.snapshot:  # every snapshot ever published, to compare one with the one before
        tables.append({
            "name": f"{spec.contract.table}_snapshots",
            "identifier": f"{spec.contract.table}__batches",
            "description": f"Every published snapshot of `{spec.contract.table}` (one batch "
            "per snapshot); a key appears once per snapshot.",
            "config": {"meta": meta},
            "columns": _envelope(spec, batches=True),
        })
    return tables


def render(source: str, specs: Iterable[ExtractionSpec]) -> str:
    tables = [table for spec in specs if spec.contract.source == source for table in _table(spec)]
    document = {"version": 2, "sources": [{
        "name": source, "description": SOURCES[source], "schema": f"raw_{source}",
        "tables": tables,
    }]}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(source=source) + body


def rendered(specs: Iterable[ExtractionSpec]) -> dict[Path, str]:
    specs = list(specs)
    return {sources_path(source): render(source, specs) for source in SOURCES}


def write(specs: Iterable[ExtractionSpec]) -> list[Path]:
    """Write every sources file that differs; returns the ones written."""
    written = []
    for path, text in rendered(specs).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written
