"""Connections to the outside world, bound per environment in exactly one place: `defs()`."""

from __future__ import annotations

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from resources.alerts import OPTIONAL_ENV, AlertsResource
from resources.bigcommerce import BigCommerceResource
from resources.environment import DataDir, environment
from resources.postgres import PostgresResource
from resources.raw_zone import RawZoneResource
from resources.transformer import dbt_executable, dbt_target, transformer_project


def _bigcommerce(env: str) -> BigCommerceResource:
    secrets = {
        "store_hash": dg.EnvVar("BIGCOMMERCE_STORE_HASH"),
        "access_token": dg.EnvVar("BIGCOMMERCE_ACCESS_TOKEN"),
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


def defs() -> dg.Definitions:
    """Resources for the environment `GOV_ENV` names (local by default)."""
    env = environment()
    data = DataDir.from_env()
    return dg.Definitions(
        resources={
            "alerts": _alerts(data),
            "bigcommerce": _bigcommerce(env),
            # Locally this is the embedded server's read-only role; in production a role with
            # SELECT-only grants. Either way the URL comes from the environment.
            "wise_postgres": PostgresResource(url=dg.EnvVar("WISE_POSTGRES_URL")),
            # The raw zone stays on local Parquet + DuckDB until the BigQuery raw zone lands.
            "raw_zone": RawZoneResource(root=str(data.raw), warehouse=str(data.warehouse)),
            "dbt": DbtCliResource(
                project_dir=transformer_project(),
                target=dbt_target(),
                dbt_executable=dbt_executable(),
            ),
        }
    )
