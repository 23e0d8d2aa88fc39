"""The scratch space of an audit on BigQuery: two relations of the batch in a dataset.

The staged batch is already a table there (the raw zone's per-batch staging table,
`resources.bigquery`); the audit types it into `audit_typed_<batch>` and reads the typed rows
through the `audit_rows_<batch>` view. The table expires by itself a day later if a run dies
before dropping it; both are dropped when the audit ends. Every query's bytes processed are
added up, so the audit's cost per batch can be reported (`bytes_processed`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from checks.warehouse.dialects import BIGQUERY

if TYPE_CHECKING:
    from google.cloud import bigquery

EXPIRES_HOURS = 24


class BigQueryScratch:
    """Where one batch is typed and judged on BigQuery (`checks.warehouse.audit.Scratch`)."""

    dialect = BIGQUERY

    def __init__(self, client: bigquery.Client, staged_table: str, dataset: str,
                 batch_id: str) -> None:
        """`staged_table`: `project.dataset.table` of the loaded batch; `dataset`: where the
        audit's own relations go (the staging dataset)."""
        self.client = client
        self.project = client.project
        self.dataset = dataset
        safe = re.sub(r"\W", "_", batch_id)
        self.staged = BIGQUERY.quote(staged_table)
        self._typed_name = f"audit_typed_{safe}"
        self.gx_table = f"audit_rows_{safe}"
        self.gx_schema = dataset
        self.typed = BIGQUERY.quote(f"{self.project}.{dataset}.{self._typed_name}")
        self.audit_rows = BIGQUERY.quote(f"{self.project}.{dataset}.{self.gx_table}")
        self.bytes_processed = 0

    def _job(self, sql: str) -> Any:
        sql = sql.replace(f"CREATE TABLE {self.typed} AS", (
            f"CREATE TABLE {self.typed} OPTIONS (expiration_timestamp = TIMESTAMP_ADD("
            f"CURRENT_TIMESTAMP(), INTERVAL {EXPIRES_HOURS} HOUR)) AS"), 1)
        job = self.client.query(sql)
        rows = job.result()
        self.bytes_processed += int(job.total_bytes_processed or 0)
        return rows

    def execute(self, sql: str) -> None:
        self._job(sql)

    def one(self, sql: str) -> tuple:
        return tuple(next(iter(self._job(sql))).values())

    def frame(self, sql: str) -> pd.DataFrame:
        # Over REST: the Storage Read API cannot read query results on the emulator, and the
        # results here are small (failing rows, samples) or two columns (family keys).
        return self._job(sql).to_dataframe(create_bqstorage_client=False)

    def rows_of(self, sql: str) -> list[int]:
        return [int(row[0]) for row in self._job(sql)]

    def scalars(self, sql: str) -> list[Any]:
        return [row[0] for row in self._job(sql)]

    def ready_for_gx(self) -> None:
        """Nothing to flush: GX queries the same dataset through the same client."""

    def gx_datasource(self, context: Any, name: str) -> Any:
        return context.data_sources.add_bigquery(
            name, connection_string=f"bigquery://{self.project}/{self.dataset}"
            "?user_supplied_client=true", kwargs={"connect_args": {"client": self.client}})

    def close(self) -> None:
        for relation in (self.audit_rows, self.typed):
            kind = "VIEW" if relation == self.audit_rows else "TABLE"
            self.client.query(f"DROP {kind} IF EXISTS {relation}").result()
