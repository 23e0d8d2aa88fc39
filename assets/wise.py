"""Extraction assets for the Wise PostgreSQL tables (point transactions, quotations).

The resource connects as a read-only role and streams in chunks through a server-side cursor;
table and column names come from the specs below and reach SQL only as identifiers.
"""

# No `from __future__ import annotations` here: Dagster resolves the asset functions'
# parameter annotations (config and resources) when the assets are defined.
from collections.abc import Iterator
from functools import partial

import dagster as dg

from assets.extraction import Extraction, ExtractionConfig, ExtractionSpec, extract
from assets.records import RecordShape
from contracts import contract_for
from lineage import naming
from lineage.extraction import extraction_lineage
from lineage.resource import LineageResource
from resources.postgres import PostgresResource
from resources.raw_zone import RawZoneResource

KINDS = frozenset({"postgres", "python", "parquet"})
SHAPE = RecordShape("id", "updated_at", "native")

POINT_TRANSACTIONS = ExtractionSpec(
    name="src_point_transaction",
    contract=contract_for("wise", "point_transactions"),
    shape=SHAPE,
    group="loyalty",
    kinds=KINDS,
    source_label="wise.public.point_transaction",
)
QUOTATIONS = ExtractionSpec(
    name="src_quotation",
    contract=contract_for("wise", "quotations"),
    shape=SHAPE,
    group="sales",
    kinds=KINDS,
    source_label="wise.public.quotation",
)
SOURCE_TABLES = {POINT_TRANSACTIONS: "point_transaction", QUOTATIONS: "quotation"}


def build_asset(spec: ExtractionSpec, source_table: str) -> dg.AssetsDefinition:
    @dg.asset(**spec.asset_kwargs())
    def _asset(
        context: dg.AssetExecutionContext,
        config: ExtractionConfig,
        wise_postgres: PostgresResource,
        raw_zone: RawZoneResource,
        lineage: LineageResource,
    ) -> Iterator:
        def read(extraction: Extraction) -> dict:
            chunks = wise_postgres.stream_table(
                source_table, modified_column="updated_at", since=extraction.window.since
            )
            for rows in chunks:
                extraction.add(rows)
            return {"queries": 1, "chunks": extraction.pages, "bytes": extraction.record_bytes}

        zone = raw_zone.zone()
        table = partial(naming.postgres_table, wise_postgres.url, source_table)
        tracer = extraction_lineage(context, lineage, spec, zone, table,
                                    secrets=[naming.url_password(wise_postgres.url)])
        yield from extract(context, spec, config, zone, read, lineage=tracer)

    return _asset


wise_assets = [build_asset(spec, table) for spec, table in SOURCE_TABLES.items()]
