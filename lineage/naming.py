"""Who is who in lineage: one identity per dataset, whichever job reports it.

Identities follow OpenLineage's dataset naming spec through `openlineage.client.naming` where it
has a helper (PostgreSQL, local files). Where it has none (DuckDB, an HTTP API) the namespace is
built the way the spec builds the others (`scheme://authority`) and the name is the path inside
it. No identity ever carries a credential: user, password and tokens are dropped here.

The naming helpers and psycopg's DSN parser are imported by the functions that use them:
`openlineage.client.naming` loads the whole client (about 0.25 s), and the assets' specs
import this module when the code location loads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from resources.bigquery.raw_zone import BigQueryRawZone
from resources.raw_zone import RawZone, TableRef

NAMESPACE = "commerce-governance"  # the namespace of every job this platform runs
PRODUCER = "https://github.com/commerce-governance/platform/lineage"  # on every event and facet


# The characters a dataset namespace may hold in Marquez (0.51.1) without being changed: its
# pattern (marquez.common.models.NamespaceName) refuses others with a 400, after part of the
# event was stored; and of those it takes, `;` and `=` are rewritten to `_` for the dataset's own
# row (OpenLineageDao.formatNamespaceName), which then sits in a second, empty namespace.
_NAMESPACE_CHARACTER = re.compile(r"[a-zA-Z:/0-9_\-.@]")


def marquez_safe(namespace: str) -> str:
    """`namespace` with every other character written as `+XX` per UTF-8 byte (and `+` itself
    as `+2B`, so two paths never meet): `/data/my shop` -> `/data/my+20shop`.

    `+` because `%` is refused and `+` is kept as it is; namespaces made only of those
    characters are unchanged."""
    return "".join(
        character if _NAMESPACE_CHARACTER.fullmatch(character)
        else "".join(f"+{byte:02X}" for byte in character.encode())
        for character in namespace)


@dataclass(frozen=True)
class DatasetId:
    namespace: str
    name: str


def job_name(asset_name: str) -> tuple[str, str]:
    """(namespace, name) of the job that materializes `asset_name`: the asset's own name."""
    return NAMESPACE, asset_name


def postgres_table(url: str, table: str, schema: str = "public") -> DatasetId:
    """`postgres://host:port` / `database.schema.table`, from the resource's URL or DSN.

    A Unix-socket directory is this machine: it becomes `localhost`, so the identity does not
    change with the socket's temporary folder. Only the first of several hosts is named."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:  # libpq's message may quote the URL, password included
        raise ValueError("the PostgreSQL URL cannot be read for lineage naming") from None
    host = str(info.get("host") or "localhost").split(",")[0]
    if host.startswith("/") or host.startswith("@"):
        host = "localhost"
    port = str(info.get("port") or "5432").split(",")[0]
    database = str(info.get("dbname") or info.get("user") or "postgres")
    from openlineage.client.naming.dataset import Postgres

    naming = Postgres(host=host, port=port, database=database, schema=schema, table=table)
    return DatasetId(naming.get_namespace(), naming.get_name())


def url_password(url: str) -> str | None:
    """The password in a PostgreSQL URL or DSN, so messages can be scrubbed of it."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(url).get("password") or None
    except Exception:  # unreadable: nothing to scrub that naming could find
        return None


def bigcommerce_endpoint(base_url: str, store_hash: str, label: str) -> DatasetId:
    """The store's endpoint: namespace `https://api.bigcommerce.com` (the sandbox's
    `http://127.0.0.1:<port>` locally), name `stores/<hash>/v3/customers`.

    No naming helper covers an HTTP API; this one follows the spec's shape for services
    (namespace = scheme://host:port, name = the resource path). `label` is the spec's
    "GET /v3/customers?include=..." form; the query string is not part of the identity.
    """
    parts = urlsplit(base_url)
    port = f":{parts.port}" if parts.port else ""
    namespace = f"{parts.scheme}://{parts.hostname}{port}"  # hostname: userinfo dropped
    path = label.split(" ", 1)[-1].split("?", 1)[0].strip("/")
    return DatasetId(namespace, f"stores/{store_hash}/{path}")


def local_file(path: str | Path) -> DatasetId:
    from openlineage.client.naming.dataset import LocalFileSystem

    naming = LocalFileSystem(path=os.path.abspath(path))
    return DatasetId(naming.get_namespace(), naming.get_name())


def warehouse_table(warehouse: str | Path, schema: str, table: str) -> DatasetId:
    """A table of the DuckDB warehouse, named as OpenLineage's dbt integration names it
    (`duckdb://<path>` / `<database>.<schema>.<table>`, the database being the file's stem),
    so the raw table an extraction writes is the very node dbt's models read. A path with a
    space, `~` or a non-ASCII letter is written with `marquez_safe`."""
    path = os.path.abspath(warehouse)  # not resolve(): dbt is given this same spelling
    return DatasetId(marquez_safe(f"duckdb://{path}"), f"{Path(path).stem}.{schema}.{table}")


def bigquery_table(project: str, dataset: str, table: str) -> DatasetId:
    """A BigQuery table, named as OpenLineage's naming spec and its dbt integration name it."""
    return DatasetId("bigquery", f"{project}.{dataset}.{table}")


def _zone_table(zone: RawZone, schema: str, table: str) -> DatasetId:
    if isinstance(zone, BigQueryRawZone):
        return bigquery_table(str(zone.settings.project), schema, table)
    return warehouse_table(zone.warehouse, schema, table)


def raw_table(zone: RawZone, ref: TableRef) -> DatasetId:
    """The published table dbt reads (`raw_<source>.<table>`)."""
    return _zone_table(zone, ref.schema, ref.table)


def quarantine_table(zone: RawZone, ref: TableRef) -> DatasetId:
    """Where quarantined rows go, with their rule (`quarantine.<source>__<table>`)."""
    schema, table = ref.quarantine_view.split(".", 1)
    return _zone_table(zone, schema, table)


def staged_batches(zone: RawZone, ref: TableRef) -> DatasetId:
    """The staging folder of a table: every batch is audited there before it is published.
    The folder, not the batch file, so each table has one staging node rather than one per
    run."""
    return local_file(zone.paths.staging(ref, "batch").parent)


__all__ = [
    "NAMESPACE",
    "PRODUCER",
    "DatasetId",
    "bigcommerce_endpoint",
    "job_name",
    "local_file",
    "marquez_safe",
    "postgres_table",
    "quarantine_table",
    "raw_table",
    "staged_batches",
    "url_password",
    "warehouse_table",
]
