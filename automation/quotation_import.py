"""Import a quotation CSV dropped into the watched folder, through the same write-audit-publish
path as the PostgreSQL extraction: the rows land in the `wise.quotations` raw table."""

import contextlib
import csv
import dataclasses
import json
from functools import partial
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from assets.extraction import Extraction, Window
from assets.records import RecordShape
from assets.wise import QUOTATIONS
from lineage import naming
from resources.lineage import LineageResource
from resources.raw_zone import RawZoneResource

INTEGER_COLUMNS = ("id", "customer_id")
JSON_COLUMNS = ("items",)


class QuotationFileConfig(dg.Config):
    path: str = Field(description="The CSV file to import (header row = quotation columns).")


def _typed(row: dict[str, str]) -> dict[str, Any]:
    """CSV text to the shapes the PostgreSQL extraction produces; a value that does not convert
    is kept as text, so the structural audit quarantines the row with its reason."""
    record: dict[str, Any] = dict(row)
    for column in INTEGER_COLUMNS:
        value = (row.get(column) or "").strip()
        if value.lstrip("-").isdigit():
            record[column] = int(value)
        elif value == "":
            record[column] = None
    for column in JSON_COLUMNS:
        with contextlib.suppress(ValueError):
            record[column] = json.loads(row.get(column) or "null")
    return record


def read_csv(path: Path, chunk_rows: int = 5_000):
    with path.open(newline="", encoding="utf-8-sig") as handle:
        chunk: list[dict[str, Any]] = []
        for row in csv.DictReader(handle):
            chunk.append(_typed(row))
            if len(chunk) == chunk_rows:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


@dg.op(description="Stage, audit and publish one quotation CSV into the raw zone.")
def import_quotation_csv(
    context: dg.OpExecutionContext, config: QuotationFileConfig, raw_zone: RawZoneResource,
    lineage: LineageResource,
) -> None:
    from lineage.extraction import extraction_lineage  # openlineage: the op's, not the load's

    path = Path(config.path)
    spec = dataclasses.replace(
        QUOTATIONS, shape=RecordShape("id", "updated_at", "iso8601"),
        source_label=f"file {path.name}",
    )
    window = Window(None, f"file import: {path}")
    zone = raw_zone.zone()
    # Its own job (the op's name): another source feeding the same table as `src_quotation`.
    tracer = extraction_lineage(context, lineage, spec.lineage_table, zone,
                                partial(naming.local_file, path), job_name=context.op_def.name)
    with Extraction(context, spec, zone, window, lineage=tracer) as extraction:
        for rows in read_csv(path):
            extraction.add(rows)
        # An op cannot yield an asset's check results: log them (and the materialization) as
        # events of the quotations asset, so the checks and alerts see the file import too.
        for event in extraction.finish({"file": str(path), "bytes": path.stat().st_size}):
            context.log_event(_as_event(event, spec.key))


def _as_event(
    event: dg.AssetCheckResult | dg.MaterializeResult, key: dg.AssetKey
) -> dg.AssetCheckEvaluation | dg.AssetMaterialization:
    if isinstance(event, dg.AssetCheckResult):
        return dg.AssetCheckEvaluation(
            asset_key=key, check_name=event.check_name, passed=event.passed,
            metadata=event.metadata, severity=event.severity, description=event.description,
            blocking=True,
        )
    return dg.AssetMaterialization(asset_key=key, metadata=event.metadata)


@dg.job(description="Import one dropped quotation file (launched by the file-drop sensor).")
def import_quotation_file() -> None:
    import_quotation_csv()
