"""The client, with short retries, one-line errors and each job's cost written down.

Every call passes the same `Retry` (bounded by `timeout_s`), so a server that is not there fails
in seconds rather than after the client's default 600 s. Query jobs are recorded as `JobCost`:
their bytes processed and billed, which the audit reports per batch.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from resources.bigquery.credentials import make_client, server_name
from resources.bigquery.errors import BigQueryError, api_detail, explained, one_line
from resources.bigquery.settings import BigQuerySettings, Names

if TYPE_CHECKING:
    from google.cloud import bigquery


@dataclass(frozen=True)
class JobCost:
    """One job: what it was for, and (queries only) the bytes BigQuery processed and billed.

    Load jobs are free on BigQuery: their bytes are None. The emulator reports 0 processed and
    no billed bytes for every query (docs/bigquery.md); BigQuery reports the real figures, and
    for a script also each statement's, as jobs of kind "script statement" after the script's
    own (whose bytes are their sum: count one or the other, not both).
    """

    job_id: str
    purpose: str
    kind: str  # "query", "script", "script statement" or "load"
    bytes_processed: int | None
    bytes_billed: int | None
    seconds: float
    rows: int | None = None


class Warehouse:
    """A BigQuery client bound to the zone's settings."""

    def __init__(self, client: bigquery.Client, settings: BigQuerySettings) -> None:
        from google.api_core.retry import Retry

        self.client = client
        self.settings = settings
        self.names = Names(str(settings.project), settings.staging_dataset,
                           settings.quarantine_dataset)
        self.server = server_name(settings)
        self.retry = Retry(initial=0.25, maximum=2.0, multiplier=2.0, timeout=settings.timeout_s)

    @classmethod
    def connect(cls, settings: BigQuerySettings | None = None,
                env: Mapping[str, str] | None = None) -> Warehouse:
        """Credentials, the client, and one call proving the project answers: a wrong project
        stops here (BigQuery answers 404 or 403) naming the variable it came from."""
        from google.api_core import exceptions as api

        settings = settings or BigQuerySettings.from_env(env)
        client, settings = make_client(settings, env)
        warehouse = cls(client, settings)
        try:
            with explained(f"BigQuery project {settings.project!r} ({settings.project_source})",
                           warehouse.server):
                list(client.list_datasets(max_results=1, retry=warehouse.retry,
                                          timeout=settings.timeout_s))
        except BigQueryError as error:
            if isinstance(error.__cause__, api.NotFound | api.Forbidden):
                raise BigQueryError(f"{error}: is {settings.project_source} the right project, "
                                    "and may the credentials use it?") from error.__cause__
            raise
        return warehouse

    def explained(self, what: str):
        return explained(what, self.server)

    def query(self, sql: str, purpose: str, *, job_id_prefix: str | None = None,
              costs: list[JobCost] | None = None) -> list[tuple]:
        """Run `sql` (a statement or a script) and return its rows; its cost (and for a script,
        each statement's) is appended to `costs`."""
        started = time.monotonic()
        with self.explained(purpose):
            job = self.client.query(sql, job_id_prefix=job_id_prefix, retry=self.retry,
                                    job_retry=None, timeout=self.settings.timeout_s)
            rows = [tuple(row.values()) for row in
                    job.result(retry=self.retry, timeout=self.settings.job_timeout_s)]
        if costs is not None:
            kind = "script" if job.statement_type == "SCRIPT" else "query"
            costs.append(JobCost(job.job_id, purpose, kind, job.total_bytes_processed,
                                 job.total_bytes_billed, round(time.monotonic() - started, 3)))
            costs.extend(self._statements(job, purpose))
        return rows

    def _statements(self, job: bigquery.QueryJob, purpose: str) -> list[JobCost]:
        """A script's statements as BigQuery ran them (child jobs); the emulator runs none."""
        if not getattr(job, "num_child_jobs", 0):
            return []
        with self.explained(f"{purpose}: listing the script's statements"):
            children = list(self.client.list_jobs(parent_job=job.job_id, retry=self.retry,
                                                  timeout=self.settings.timeout_s))
        return [JobCost(child.job_id, f"{purpose}: {child.statement_type}", "script statement",
                        child.total_bytes_processed, child.total_bytes_billed, 0.0)
                for child in reversed(children)]  # listed newest first

    def load(self, source: Path | IO[bytes], table_id: str, schema: list[bigquery.SchemaField],
             *, job_id: str, purpose: str, append: bool = False) -> JobCost:
        """Load Parquet into `table_id` (which must be empty, unless `append`) under `job_id`.

        BigQuery answers a job id it has seen with 409 Conflict and runs it once: the earlier
        job is then waited for instead. A job that fails raises naming `purpose` and its first
        error. The schema is explicit, as the emulator does not read it from Parquet.
        """
        from google.api_core import exceptions as api
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET,
                                        schema=schema,
                                        write_disposition=bigquery.WriteDisposition.WRITE_APPEND
                                        if append else bigquery.WriteDisposition.WRITE_EMPTY)
        started = time.monotonic()
        with self.explained(purpose):
            try:
                if isinstance(source, Path):
                    with open(source, "rb") as handle:
                        job = self.client.load_table_from_file(
                            handle, table_id, job_id=job_id, job_config=config, num_retries=2,
                            timeout=self.settings.timeout_s)
                else:
                    job = self.client.load_table_from_file(
                        source, table_id, job_id=job_id, job_config=config, rewind=True,
                        num_retries=2, timeout=self.settings.timeout_s)
            except api.Conflict:
                job = self.client.get_job(job_id, retry=self.retry,
                                          timeout=self.settings.timeout_s)
            try:
                job.result(retry=self.retry, timeout=self.settings.job_timeout_s)
            except api.GoogleAPICallError as error:
                raise BigQueryError(f"{purpose}: the load job {job.job_id} failed: "
                                    f"{_first_error(job, error)}") from error
        return JobCost(job.job_id, purpose, "load", None, None,
                       round(time.monotonic() - started, 3), job.output_rows)

    def table(self, table_id: str) -> bigquery.Table | None:
        from google.api_core import exceptions as api

        with self.explained(f"reading {table_id}"):
            try:
                return self.client.get_table(table_id, retry=self.retry,
                                             timeout=self.settings.timeout_s)
            except api.NotFound:
                return None

    def create_table(self, table_id: str, schema: list[bigquery.SchemaField], *,
                     expires: datetime | None = None) -> bigquery.Table:
        from google.cloud import bigquery

        table = bigquery.Table(table_id, schema=schema)
        table.expires = expires
        with self.explained(f"creating {table_id}"):
            return self.client.create_table(table, exists_ok=True, retry=self.retry,
                                            timeout=self.settings.timeout_s)

    def drop_table(self, table_id: str) -> None:
        with self.explained(f"dropping {table_id}"):
            self.client.delete_table(table_id, not_found_ok=True, retry=self.retry,
                                     timeout=self.settings.timeout_s)

    def dataset(self, dataset_id: str, *, default_table_expiration_ms: int | None = None
                ) -> bigquery.Dataset:
        """The dataset, created in the configured location if missing; one that exists in
        another location stops the run (a query across regions fails, a copy moves data)."""
        from google.api_core import exceptions as api
        from google.cloud import bigquery

        options = {"retry": self.retry, "timeout": self.settings.timeout_s}
        with self.explained(f"dataset {dataset_id}"):
            try:  # read first: the key may read datasets it may not create
                found = self.client.get_dataset(dataset_id, **options)
            except api.NotFound:
                dataset = bigquery.Dataset(dataset_id)
                dataset.location = self.settings.location
                dataset.default_table_expiration_ms = default_table_expiration_ms
                found = self.client.create_dataset(dataset, exists_ok=True, **options)
        where = (found.location or "").lower()
        if where != self.settings.location.lower():
            raise BigQueryError(f"dataset {dataset_id} is in {found.location}, but the location "
                                f"setting is {self.settings.location} (the dbt prod target's "
                                "too): move the dataset or change the setting")
        return found


def _first_error(job: Any, error: Exception) -> str:
    """The first rejected row's message (BigQuery names its position), and how many more."""
    errors = [e for e in (getattr(job, "errors", None) or []) if isinstance(e, dict)]
    if not errors:
        return api_detail(error)
    first = one_line(errors[0].get("message", ""), 240)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first}{more}"
