"""The raw zone: stage a batch, publish it atomically, read the current state of each table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from resources.raw_zone.batch import StagedBatch
from resources.raw_zone.holds import write_holds
from resources.raw_zone.layout import TableRef, ZonePaths, batch_time, new_batch_id
from resources.raw_zone.views import view_statements, warehouse_lock

if TYPE_CHECKING:  # imported where a connection opens: the code location loads without it
    import duckdb


class RawZone:
    """Batches as Parquet files under `root`; views over them in the DuckDB `warehouse`."""

    def __init__(self, root: Path, warehouse: Path,
                 quarantine_retention_days: int | None = None) -> None:
        self.paths = ZonePaths(Path(root))
        self.warehouse = Path(warehouse)
        self.quarantine_retention_days = quarantine_retention_days

    def stage(self, ref: TableRef, run_id: str) -> StagedBatch:
        return StagedBatch(self.paths, ref, new_batch_id(), run_id)

    def publish(self, batch: StagedBatch) -> Path:
        """Publish a staged batch and make sure the warehouse's views cover its table."""
        path = batch.publish()
        self.prune_quarantine(batch.ref)
        self.sync_views([batch.ref])
        return path

    def publish_quarantine(self, batch: StagedBatch) -> Path | None:
        """Publish only a blocked batch's quarantine: the table dbt reads does not change."""
        path = batch.publish_quarantine()
        self.prune_quarantine(batch.ref)
        self.sync_views([batch.ref])
        return path

    def prune_quarantine(self, ref: TableRef, now: datetime | None = None) -> list[Path]:
        """Delete quarantined batches, and held values, older than the retention (none if it
        is not set): both keep raw values."""
        if self.quarantine_retention_days is None:
            return []
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.quarantine_retention_days)
        folders = [self.paths.glob(ref, zone=zone).parent
                   for zone in ("quarantine", "unclassified")]
        expired = [path for folder in folders for path in sorted(folder.glob("*.parquet"))
                   if batch_time(path.stem) < cutoff]
        for path in expired:
            path.unlink()
        return expired

    def sync_views(self, refs: Iterable[TableRef]) -> None:
        """(Re)create the tables' views in the warehouse file, under the warehouse lock.

        Re-creating on every publish keeps the views' column lists in step with the batches.
        """
        statements = [s for ref in refs for s in view_statements(self.paths, ref)]
        if not statements:
            return
        import duckdb

        with warehouse_lock(self.warehouse):
            connection = duckdb.connect(str(self.warehouse))
            try:
                for statement in statements:
                    connection.execute(statement)
            finally:
                connection.close()

    @contextmanager
    def reader(self, refs: Iterable[TableRef]) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB with the same views, reading the Parquet files directly.

        It never opens the warehouse file, so it cannot collide with dbt or a publish.
        """
        import duckdb

        connection = duckdb.connect(":memory:")
        try:
            for ref in refs:
                for statement in view_statements(self.paths, ref):
                    connection.execute(statement)
            yield connection
        finally:
            connection.close()

    def hold_parents(self, parent: TableRef, child: TableRef, batch_id: str,
                     held: Mapping[int, tuple[str, str]], clean: set[int]) -> None:
        """Record which parents a child batch holds (key -> (rule, why)) or releases, and
        re-create both tables' views so the holds take effect (`holds`)."""
        if write_holds(self.paths, parent, child, batch_id, held, clean) is not None:
            self.sync_views([parent, child])

    def newest_quarantined(self, ref: TableRef) -> dict[int, str]:
        """Keys whose newest version is in quarantine (newer than any published one), with the
        rule: their children must wait with them."""
        if not self.paths.has_batches(ref, zone="quarantine"):
            return {}
        published = (f"SELECT _pk, max(_batch_id) AS b FROM {ref.schema}.{ref.table}__batches "
                     "GROUP BY _pk" if self.paths.has_batches(ref)
                     else "SELECT NULL::BIGINT AS _pk, NULL AS b")
        with self.reader([ref]) as connection:
            rows = connection.execute(
                f"SELECT q._pk, min(q._rule) FROM {ref.quarantine_view} q "
                f"LEFT JOIN ({published}) p ON p._pk = q._pk "
                "WHERE q._pk IS NOT NULL AND (p.b IS NULL OR q._batch_id > p.b) "
                "GROUP BY q._pk").fetchall()
        return {int(key): f"its newest version is quarantined ({rule})" for key, rule in rows}

    def newest_versions(self, ref: TableRef,
                        since: datetime | None) -> Iterator[tuple[int, datetime]]:
        """(key, modification time) of every key's newest published version changed since
        `since` (all if None), held ones too (the current view leaves those out)."""
        if not self.paths.has_batches(ref):
            return
        with self.reader([ref]) as db:
            cursor = db.execute(
                f"SELECT _pk, _modified_at FROM {ref.schema}.{ref.table}__batches "
                "QUALIFY row_number() OVER (PARTITION BY _pk ORDER BY _modified_at DESC, "
                "_batch_id DESC, _row DESC) = 1 AND (?::TIMESTAMPTZ IS NULL OR _modified_at >= ?) "
                "ORDER BY _pk", [since, since])
            while rows := cursor.fetchmany(1_000):
                yield from rows

    def current_field(self, ref: TableRef, field: str) -> list[tuple[int, str | None]]:
        """(key, the top-level `field` as text) of every record in the table's current view."""
        if not self.paths.has_batches(ref):
            return []
        path = "'$.\"" + field.replace("'", "''") + "\"'"
        with self.reader([ref]) as db:
            return db.execute(f"SELECT _pk, record->>{path} FROM {ref.schema}.{ref.table} "
                              "ORDER BY _pk").fetchall()

    def unclassified_fields(self, ref: TableRef) -> set[str]:
        """The fields held back (not named by the contract) in any earlier batch of the table."""
        folder = self.paths.glob(ref, zone="unclassified").parent
        if not folder.is_dir():
            return set()
        return {name for path in sorted(folder.glob("*.parquet"))
                for name in pq.read_table(path, columns=["field"]).column(0).unique().to_pylist()}

    def watermark(self, ref: TableRef) -> datetime | None:
        """The latest modification time published for the table, or None if it has none."""
        if not self.paths.has_batches(ref):
            return None
        with self.reader([ref]) as connection:
            row = connection.execute(
                f"SELECT max(_modified_at) FROM {ref.schema}.{ref.table}__batches"
            ).fetchone()
        return row[0] if row else None


EMULATOR_TIMEOUT_S = 180.0


class RawZoneResource(dg.ConfigurableResource):
    """Where batches are staged, published and quarantined (defaults under `GOV_DATA_DIR`)."""

    root: str = Field(description="Folder of the raw zone's Parquet batches.")
    warehouse: str = Field(description="DuckDB file whose `raw_*` schemas view the raw zone.")
    quarantine_retention_days: int | None = Field(
        default=90, ge=1,
        description="Quarantined batches older than this are deleted when their table next "
        "publishes (None keeps them forever). Raw values live only there, so keep it short.",
    )

    bigquery_project: str | None = Field(
        default=None, description="BigQuery project of the raw zone; unset keeps it local "
        "(Parquet + DuckDB). Credentials come from GCP_SERVICE_ACCOUNT_KEY when used.")
    bigquery_location: str = Field(default="asia-northeast3",
                                   description="Location of the project's datasets.")
    bigquery_emulator_host: str | None = Field(
        default=None, description="A BigQuery emulator's URL instead of Google (tests, "
        "`run.py main --warehouse bigquery-emulator`).")

    def zone(self) -> RawZone:
        if self.bigquery_project is None:
            return RawZone(Path(self.root), Path(self.warehouse), self.quarantine_retention_days)
        from resources.bigquery.raw_zone import BigQueryRawZone  # the client only when used
        from resources.bigquery.settings import BigQuerySettings

        # The emulator answers one request at a time (DuckDB underneath): with four steps at
        # once a call waited over 20 s there, which BigQuery itself never makes us wait.
        timeout = {"timeout_s": EMULATOR_TIMEOUT_S} if self.bigquery_emulator_host else {}
        settings = BigQuerySettings(project=self.bigquery_project,
                                    location=self.bigquery_location,
                                    emulator_host=self.bigquery_emulator_host, **timeout)
        return BigQueryRawZone(Path(self.root), settings, self.quarantine_retention_days)
