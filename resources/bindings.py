"""Every connection bound per environment, in exactly one place: `defs()` (as `resources.defs()`).

Only the code location reaches this module (through `resources.defs()`): it imports every
connection's library but dbt's, which the `dbt` resource loads when a step runs it.
"""

from __future__ import annotations

import os

import dagster as dg

from resources.alerts import OPTIONAL_ENV, AlertsResource
from resources.bigcommerce import BigCommerceResource
from resources.dbt_cli import transformer_cli
from resources.environment import DataDir, environment, warehouse
from resources.lineage import LineageResource
from resources.postgres import PostgresResource
from resources.raw_zone import RawZoneResource


def _bigcommerce(env: str, data: DataDir) -> BigCommerceResource:
    secrets = {
        "store_hash": dg.EnvVar("BIGCOMMERCE_STORE_HASH"),
        "access_token": dg.EnvVar("BIGCOMMERCE_ACCESS_TOKEN"),
        # One run's extraction steps are separate processes sharing one store quota.
        "quota_ledger_dir": str(data.quota_ledgers),
    }
    if env == "local":
        # The sandbox's address, exported by `python3 run.py main|ui|sandbox start`.
        return BigCommerceResource(**secrets, base_url=dg.EnvVar("BIGCOMMERCE_API_URL"))
    return BigCommerceResource(**secrets)


def _alerts(data: DataDir) -> AlertsResource:
    """Slack only where a token is set; the outbox (also the once-only ledger) everywhere.

    Each variable is bound as an `EnvVar` only when present, so an unset one means "use the
    default" instead of failing the run launch, and the token never enters the definitions.
    """
    bound = {field: dg.EnvVar(name) for field, name in OPTIONAL_ENV.items()
             if os.environ.get(name)}
    return AlertsResource(outbox=str(data.alert_outbox), **bound)


def _flag(name: str) -> bool | None:
    """True/False for a variable set to true/false (any case); None when unset or other."""
    value = os.environ.get(name, "").strip().lower()
    return {"true": True, "false": False}.get(value)


def _lineage(data: DataDir) -> LineageResource:
    """To the data folder's events file by default; `OPENLINEAGE_URL` adds Marquez (bound as an
    `EnvVar`: its URL may carry credentials), `GOV_LINEAGE_FILE=false` drops the file and
    `OPENLINEAGE_DISABLED=true` turns lineage off. Marquez's events wait in the data folder's
    outbox until their run has finished, then the lineage sensors ship them: no step waits."""
    url = dg.EnvVar("OPENLINEAGE_URL") if os.environ.get("OPENLINEAGE_URL") else None
    file_path = None if _flag("GOV_LINEAGE_FILE") is False else str(data.lineage_file)
    return LineageResource(file_path=file_path, url=url,
                           outbox=str(data.lineage_outbox) if url else None,
                           disabled=_flag("OPENLINEAGE_DISABLED") is True)


def _raw_zone(data: DataDir) -> RawZoneResource:
    """Batches are always staged under the data folder; they are published to DuckDB there, or
    to BigQuery (project from `GCP_PROJECT`, credentials read from `GCP_SERVICE_ACCOUNT_KEY`
    when the zone connects), or to the emulator `run.py main --warehouse bigquery-emulator`
    starts."""
    local = {"root": str(data.raw), "warehouse": str(data.warehouse)}
    kind = warehouse()
    if kind == "bigquery":
        return RawZoneResource(**local, bigquery_project=dg.EnvVar("GCP_PROJECT"))
    if kind == "bigquery-emulator":
        return RawZoneResource(**local, bigquery_project=dg.EnvVar("GOOGLE_CLOUD_PROJECT"),
                               bigquery_emulator_host=dg.EnvVar("BIGQUERY_EMULATOR_HOST"))
    return RawZoneResource(**local)


def defs() -> dg.Definitions:
    """Resources for the environment `GOV_ENV` names (local by default)."""
    env = environment()
    data = DataDir.from_env()
    return dg.Definitions(
        resources={
            "alerts": _alerts(data),
            "bigcommerce": _bigcommerce(env, data),
            # Locally this is the embedded server's read-only role; in production a role with
            # SELECT-only grants. Either way the URL comes from the environment.
            "wise_postgres": PostgresResource(url=dg.EnvVar("WISE_POSTGRES_URL")),
            "raw_zone": _raw_zone(data),
            "lineage": _lineage(data),
            "dbt": transformer_cli(),
        }
    )
