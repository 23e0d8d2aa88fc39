"""The Wise PostgreSQL tables (point transactions, quotations) as extraction specs.

The resource connects as a read-only role and streams in chunks through a server-side cursor;
table and column names come from the specs below and reach SQL only as identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assets.records import RecordShape
from assets.spec import ExtractionSpec
from contracts import contract_for
from lineage import naming
from lineage.naming import DatasetId
from resources.postgres import PostgresResource

if TYPE_CHECKING:
    from assets.extraction import Extraction

SHAPE = RecordShape("id", "updated_at", "native")


@dataclass(frozen=True)
class PostgresReader:
    """One table of the Wise database, read since the window's start by `modified_column`."""

    table: str
    modified_column: str = "updated_at"
    resource_key: str = "wise_postgres"
    kind: str = "postgres"

    def read(self, resource: PostgresResource, extraction: Extraction) -> dict[str, Any]:
        chunks = resource.stream_table(self.table, modified_column=self.modified_column,
                                       since=extraction.window.since)
        for rows in chunks:
            extraction.add(rows)
        return {"queries": 1, "chunks": extraction.pages, "bytes": extraction.record_bytes}

    def dataset(self, resource: PostgresResource, spec: ExtractionSpec) -> DatasetId:
        return naming.postgres_table(resource.url, self.table)

    def secrets(self, resource: PostgresResource) -> list[str | None]:
        return [naming.url_password(resource.url)]


POINT_TRANSACTIONS = ExtractionSpec(
    name="src_point_transaction",
    contract=contract_for("wise", "point_transactions"),
    shape=SHAPE,
    group="loyalty",
    reader=PostgresReader("point_transaction"),
    source_label="wise.public.point_transaction",
)
QUOTATIONS = ExtractionSpec(
    name="src_quotation",
    contract=contract_for("wise", "quotations"),
    shape=SHAPE,
    group="sales",
    reader=PostgresReader("quotation"),
    source_label="wise.public.quotation",
)
