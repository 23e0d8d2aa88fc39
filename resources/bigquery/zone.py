"""The raw zone in BigQuery: write (load into staging), audit (elsewhere, on the staging table),
publish (one transaction with the quarantine).

    zone = BigQueryZone.connect()                  # settings and credentials from the environment
    staged = zone.load(batch)                      # a sealed StagedBatch -> StagedLoad
    ...the audit reads staged.rows.table_id, decides {_row: (stage, rule, column, reason)}...
    published = zone.publish(staged, quarantine)   # or blocked=(stage, rule, column, reason)

Datasets, tables and views: `resources.bigquery.tables`; loading: `resources.bigquery.load`;
the transaction: `resources.bigquery.publish`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import datetime

from resources.bigquery.errors import BigQueryError
from resources.bigquery.holds import write_holds
from resources.bigquery.load import StagedFiles, StagedLoad, load_batch
from resources.bigquery.publish import Published, Reason, load_decisions, run_publish
from resources.bigquery.settings import BigQuerySettings, sql_id, sql_string
from resources.bigquery.tables import ensure_datasets, ensure_tables
from resources.bigquery.warehouse import JobCost, Warehouse
from resources.raw_zone.batch import StagedBatch
from resources.raw_zone.layout import TableRef


class BigQueryZone:
    """Batches in BigQuery, in the dataset layout the dbt `prod` target reads."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.names = warehouse.names
        self._prepared: set[TableRef] = set()

    @classmethod
    def connect(cls, settings: BigQuerySettings | None = None,
                env: Mapping[str, str] | None = None) -> BigQueryZone:
        """From `settings` (by default `BigQuerySettings.from_env()`); raises `BigQueryError`
        in one line for missing or bad credentials, or a project that does not answer."""
        return cls(Warehouse.connect(settings, env))

    def prepare(self, refs: Iterable[TableRef]) -> list[JobCost]:
        """Datasets, tables and current-state views of `refs`, once per table in this process."""
        fresh = [ref for ref in refs if ref not in self._prepared]
        costs: list[JobCost] = []
        if not fresh:
            return costs
        ensure_datasets(self.warehouse, [*fresh, *(p for ref in fresh for _, p in ref.parents)])
        for ref in fresh:
            ensure_tables(self.warehouse, ref, costs)
            self._prepared.add(ref)
        return costs

    def load(self, batch: StagedBatch | StagedFiles) -> StagedLoad:
        """Load a staged batch (sealed here if it was not) into its staging tables; safe to
        repeat. Raises `BigQueryError` naming the batch and the first rejected row."""
        files = batch if isinstance(batch, StagedFiles) else StagedFiles.of(batch)
        self.prepare([files.ref])
        return load_batch(self.warehouse, files)

    def publish(self, load: StagedLoad, quarantine: Mapping[int, Reason] | None = None, *,
                blocked: Reason | None = None) -> Published:
        """Publish the staged rows the `quarantine` decision (`_row` -> reason) does not name,
        and quarantine those it does, in one transaction; then drop the staging tables.

        With `blocked` (the reason given to rows the decision does not name), every staged row
        goes to quarantine and the published table does not change. A batch published before
        is not published again (`Published.already`). Raises `BigQueryError` naming the batch
        if the transaction fails; nothing of it is then published.
        """
        started = time.monotonic()
        costs = self.prepare([load.ref])
        decisions, job = load_decisions(self.warehouse, load, quarantine or {})
        if job is not None:
            costs.append(job)
        try:
            outcome = run_publish(self.warehouse, load, decisions, blocked, costs)
        except BigQueryError as error:
            raise BigQueryError(f"{error} (batch {load.batch_id} was not published; its staging "
                                "tables are kept until they expire)") from error
        already, was_blocked, published, quarantined, values = outcome
        left = self.drop(load, extra=[decisions] if decisions else [])
        return Published(load.batch_id, load.ref.qualified_name, was_blocked, published,
                         quarantined, values, already, tuple(costs),
                         round(time.monotonic() - started, 3), left)

    def drop(self, load: StagedLoad, extra: Iterable[str] = ()) -> tuple[str, ...]:
        """Drop the batch's staging tables (also for an abandoned batch); those that could not
        be dropped are returned: they expire by themselves."""
        left = []
        for table_id in [*load.table_ids, *extra]:
            try:
                self.warehouse.drop_table(table_id)
            except BigQueryError:
                left.append(table_id)
        return tuple(left)

    def hold_parents(self, parent: TableRef, child: TableRef, batch_id: str,
                     held: Mapping[int, tuple[str, str]], clean: set[int]) -> int:
        """Record which parents a child batch holds (key -> (rule, why)) or releases, before the
        child batch is published (never a parent shown without its rows)."""
        self.prepare([child])
        return write_holds(self.warehouse, parent, child, batch_id, held, clean, [])

    def watermark(self, ref: TableRef) -> datetime | None:
        """The latest modification time published for the table, or None if it has none."""
        self.prepare([ref])
        rows = self.warehouse.query(
            f"SELECT MAX(_modified_at) FROM {sql_id(self.names.batches(ref))}",
            f"reading the watermark of {ref.qualified_name}")
        return rows[0][0] if rows else None

    def newest_quarantined(self, ref: TableRef) -> dict[int, str]:
        """Keys whose newest version is in quarantine (a batch newer than any that published
        the key), with the rule: their children must wait with them. As the local zone."""
        self.prepare([ref])
        rows = self.warehouse.query(
            f"SELECT q._pk, MIN(q._rule) FROM {sql_id(self.names.quarantine(ref))} q "
            f"LEFT JOIN (SELECT _pk, MAX(_batch_id) AS b FROM {sql_id(self.names.batches(ref))} "
            "GROUP BY _pk) p ON p._pk = q._pk "
            "WHERE q._pk IS NOT NULL AND (p.b IS NULL OR q._batch_id > p.b) GROUP BY q._pk",
            f"reading the quarantined keys of {ref.qualified_name}")
        return {int(key): f"its newest version is quarantined ({rule})" for key, rule in rows}

    def unclassified_fields(self, ref: TableRef) -> set[str]:
        """The fields held back (not named by the contract) in any earlier batch of the table."""
        self.prepare([ref])
        rows = self.warehouse.query(
            f"SELECT DISTINCT field FROM {sql_id(self.names.unclassified(ref))}",
            f"reading the unclassified fields of {ref.qualified_name}")
        return {row[0] for row in rows}

    def published(self, ref: TableRef, batch_id: str) -> bool:
        """Whether the batch was published or blocked already (its publications row)."""
        self.prepare([ref])
        rows = self.warehouse.query(
            f"SELECT COUNT(*) FROM {sql_id(self.names.publications(ref))} "
            f"WHERE _batch_id = {sql_string(batch_id)}",
            f"reading the publications of {ref.qualified_name}")
        return bool(rows[0][0])
