"""What the rest of the platform reads from a contract: Dagster's column schema, dbt's sources.

Nothing here adds information: it only re-expresses the contract, so Dagster's catalog, the
dbt docs and the lineage facets cannot disagree with it.
"""

from __future__ import annotations

import dagster as dg

from contracts.base import Column, Contract

ENVELOPE = (
    ("_batch_id", "Published batch the row comes from (sortable by extraction time)."),
    ("_row", "Position of the row within its batch."),
    ("_run_id", "Dagster run that extracted the batch."),
    ("_extracted_at", "When the batch was extracted (UTC); the freshness field."),
    ("_pk", "Primary key of the source record."),
    ("_modified_at", "The source's modification time of the record (UTC)."),
    ("record", "The whole source record as JSON text."),
)


def column_tags(column: Column) -> dict[str, str]:
    return {"pii": column.pii} if column.pii else {}


def table_schema(contract: Contract) -> dg.TableSchema:
    """The Dagster column schema: types, descriptions, constraints and PII tags."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=column.dtype,
                description=column.description,
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable,
                    unique=column.unique,
                    other=list(column.rules),
                ),
                tags=column_tags(column),
            )
            for column in contract.columns
        ]
    )


def sql_type(column: Column) -> str:
    """The field's SQL type (DuckDB's spelling) as dbt's sources and lineage's schema facets
    document it: scalars typed, nested values as JSON. The raw view itself types nothing (it
    keeps the record as JSON text); the dbt staging models parse it."""
    dtype = column.dtype.lower()
    if dtype.startswith(("int", "uint")):
        return "BIGINT"
    if dtype.startswith("float"):
        return "DOUBLE"
    if dtype == "bool":
        return "BOOLEAN"
    if dtype == "str" or "datetime" in dtype:
        return "VARCHAR"  # dates stay as sent (RFC-2822 or ISO); staging parses them
    return "JSON"


def published_description(contract: Contract, source_label: str) -> str:
    """The description of a published raw table, one text wherever it is shown: dbt's source
    (hence the dbt docs and dbt's lineage events) and the extraction's lineage events. Marquez
    keeps whichever event spoke last, so two texts would make the description flip."""
    return f"{contract.description} Source: `{source_label}`."


def record_path(contract: Contract, column: str) -> str:
    """Where a contract column sits inside the staged record, as a JSON path (`$.id`; a lifted
    column at its nested field, e.g. `$.identity.variant_id`)."""
    return "$." + dict(contract.lift).get(column, column)
