"""Where the BigQuery raw zone lives: project, location, datasets and the name of every table.

The layout is the one the dbt `prod` target reads (transformer/profiles.yml and the generated
`_<source>__sources.yml`): sources name `schema: raw_<source>` and no database, so each source
is a dataset `raw_<source>` of the target's project (`GCP_PROJECT`) holding `<table>__batches`
(every published batch) and the view `<table>` (the current state). Everything kept for
stewards lives in the `quarantine` dataset; per-batch staging tables in `raw_staging`, which
nothing downstream reads.

Environment variables are read by `from_env()` only, when called: never at import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from resources.raw_zone.layout import TableRef

# The dbt prod target's location (transformer/profiles.yml): both must name the same region.
DEFAULT_LOCATION = "asia-northeast3"
DEFAULT_STAGING_EXPIRY = timedelta(hours=24)


@dataclass(frozen=True)
class BigQuerySettings:
    """What the zone needs to know besides credentials (`resources.bigquery.credentials`).

    `project` may be None: the service-account key's `project_id` is used then. `emulator_host`
    (the `BIGQUERY_EMULATOR_HOST` URL) switches to the local emulator with anonymous credentials.
    `timeout_s` bounds each API call including its retries, so a missing server fails in seconds
    (the client's own default retries for 600 s); `job_timeout_s` bounds waiting for one job.
    """

    project: str | None = None
    location: str = DEFAULT_LOCATION
    staging_dataset: str = "raw_staging"
    quarantine_dataset: str = "quarantine"
    staging_expiry: timedelta = DEFAULT_STAGING_EXPIRY
    emulator_host: str | None = None
    timeout_s: float = 20.0
    job_timeout_s: float = 600.0
    project_source: str = "project"  # the variable or setting `project` came from, for errors

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None,
                 **overrides: object) -> BigQuerySettings:
        """`GCP_PROJECT` (as dbt's prod target), else `GOOGLE_CLOUD_PROJECT` (what the
        emulator's env.sh exports); `BIGQUERY_EMULATOR_HOST`; anything else from `overrides`."""
        env = os.environ if env is None else env
        project, source = None, "the service-account key's project_id"
        for name in ("GCP_PROJECT", "GOOGLE_CLOUD_PROJECT"):
            if env.get(name, "").strip():
                project, source = env[name].strip(), name
                break
        fields: dict[str, object] = {
            "project": project, "project_source": source,
            "emulator_host": env.get("BIGQUERY_EMULATOR_HOST", "").strip() or None,
        }
        return cls(**{**fields, **overrides})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Names:
    """Fully qualified ids (`project.dataset.table`) of the zone's datasets and tables."""

    project: str
    staging_dataset: str = "raw_staging"
    quarantine_dataset: str = "quarantine"

    def dataset(self, name: str) -> str:
        return f"{self.project}.{name}"

    def raw_dataset(self, ref: TableRef) -> str:
        return self.dataset(ref.schema)  # raw_<source>, as the dbt sources name it

    def batches(self, ref: TableRef) -> str:
        return f"{self.raw_dataset(ref)}.{ref.table}__batches"

    def current(self, ref: TableRef) -> str:
        return f"{self.raw_dataset(ref)}.{ref.table}"

    def quarantine(self, ref: TableRef) -> str:
        return f"{self.dataset(self.quarantine_dataset)}.{ref.source}__{ref.table}"

    def unclassified(self, ref: TableRef) -> str:
        return f"{self.quarantine(ref)}__unclassified"

    def holds(self, ref: TableRef) -> str:
        """The parent keys of `ref` held back with a quarantined child, decision by decision."""
        return f"{self.quarantine(ref)}__holds"

    def publications(self, ref: TableRef) -> str:
        """One row per batch published or blocked: what makes a repeated publish a no-op. One
        per table, so two tables publishing at once never touch the same table."""
        return f"{self.quarantine(ref)}__publications"

    def staging(self, ref: TableRef, batch_id: str, part: str = "") -> str:
        suffix = f"__{part}" if part else ""
        return (f"{self.dataset(self.staging_dataset)}."
                f"{ref.source}__{ref.table}__{batch_id}{suffix}")


def sql_id(table_id: str) -> str:
    """A table id as SQL names it: quoted whole, since a project id may contain dashes."""
    return f"`{table_id}`"


def sql_string(text: str) -> str:
    """A BigQuery string literal of `text` (quote, backslash and line breaks escaped)."""
    escaped = (text.replace("\\", "\\\\").replace("'", "\\'")
               .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f"'{escaped}'"
