"""The raw zone when the warehouse is BigQuery: batches staged locally, published in BigQuery.

An extraction stages its batch exactly as locally (Parquet under the data folder, a row group
at a time); `load` puts it into its staging table, the audit runs there, and `publish_decided`
publishes it with its quarantine in one transaction (`BigQueryZone`). What the extraction reads
back (the watermark, fields held before, parents held) comes from BigQuery, so a run on any
machine sees the same state. The local files are only the staging step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from resources.bigquery.load import StagedLoad
from resources.bigquery.publish import Published, Reason
from resources.bigquery.settings import BigQuerySettings, sql_id, sql_string
from resources.bigquery.zone import BigQueryZone
from resources.raw_zone.batch import StagedBatch
from resources.raw_zone.layout import TableRef
from resources.raw_zone.zone import RawZone


class BigQueryRawZone(RawZone):
    """`RawZone`'s staging, BigQuery's tables (see the module docstring)."""

    def __init__(self, root: Path, settings: BigQuerySettings,
                 quarantine_retention_days: int | None = None) -> None:
        # No DuckDB warehouse: the views dbt reads are BigQuery's.
        super().__init__(root, Path(root) / "unused.duckdb", quarantine_retention_days)
        self.settings = settings
        self._bigquery: BigQueryZone | None = None

    @property
    def bigquery(self) -> BigQueryZone:
        """Connected on first use, so a definitions load never dials BigQuery."""
        if self._bigquery is None:
            self._bigquery = BigQueryZone.connect(self.settings)
        return self._bigquery

    def watermark(self, ref: TableRef) -> datetime | None:
        return self.bigquery.watermark(ref)

    def unclassified_fields(self, ref: TableRef) -> set[str]:
        return self.bigquery.unclassified_fields(ref)

    def newest_versions(self, ref: TableRef,
                        since: datetime | None) -> Iterator[tuple[int, datetime]]:
        zone = self.bigquery
        zone.prepare([ref])
        after = "" if since is None else \
            f" AND _modified_at >= TIMESTAMP {sql_string(since.isoformat())}"
        rows = zone.warehouse.query(
            f"SELECT _pk, _modified_at FROM {sql_id(zone.names.batches(ref))} WHERE TRUE "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY _pk ORDER BY _modified_at DESC, "
            f"_batch_id DESC, _row DESC) = 1{after} ORDER BY _pk",
            f"reading the newest versions of {ref.qualified_name}")
        yield from rows

    def current_field(self, ref: TableRef, field: str) -> list[tuple[int, str | None]]:
        zone = self.bigquery
        zone.prepare([ref])
        return zone.warehouse.query(
            f"SELECT _pk, JSON_VALUE(record, {sql_string('$.' + chr(34) + field + chr(34))}) "
            f"FROM {sql_id(zone.names.current(ref))} ORDER BY _pk",
            f"reading {field} of {ref.qualified_name}")

    def newest_quarantined(self, ref: TableRef) -> dict[int, str]:
        return self.bigquery.newest_quarantined(ref)

    def hold_parents(self, parent: TableRef, child: TableRef, batch_id: str,
                     held: Mapping[int, tuple[str, str]], clean: set[int]) -> None:
        self.bigquery.hold_parents(parent, child, batch_id, held, clean)

    def load(self, batch: StagedBatch) -> StagedLoad:
        return self.bigquery.load(batch)

    def publish_decided(self, load: StagedLoad, quarantine: Mapping[int, Reason], *,
                        blocked: Reason | None = None) -> Published:
        return self.bigquery.publish(load, quarantine, blocked=blocked)

    def publish(self, batch: StagedBatch) -> Path:
        raise TypeError("a BigQuery raw zone publishes what the audit decided: "
                        "load(batch), then publish_decided(load, quarantine)")

    def publish_quarantine(self, batch: StagedBatch) -> Path | None:
        raise TypeError("a BigQuery raw zone publishes a blocked batch with "
                        "publish_decided(load, quarantine, blocked=reason)")
