"""An embedded PostgreSQL reached over TCP with a password, as a production instance is.

pgserver listens on a Unix socket only, and dagster-postgres builds its URL from a hostname
and a port, so the server is started by pgserver (which creates the data folder and, as root,
the `pgserver` OS user it runs as), given a password-protected role and database, and then
restarted listening on 127.0.0.1. Local socket connections stay trusted for the setup; TCP
connections need the role's password (scram-sha-256), so a password that did not reach
Dagster fails the test instead of passing through `trust`.

Stopping signals the postmaster as the current user (`sandbox.postgres.stop_postgres`), never
through `pg_ctl` as `pgserver`: another pytest session on the machine may reset its temp root
to 0700 meanwhile, and the `pgserver` user then cannot reach the data folder (seen once).
"""

from __future__ import annotations

import secrets
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from sandbox.postgres import stop_postgres

# Without XDG_RUNTIME_DIR platformdirs warns, at pgserver's import, that it falls back to
# /tmp/runtime-<uid>; that is fine here, as in sandbox/postgres.py.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgserver

HBA = """\
local all all trust
host all all 127.0.0.1/32 scram-sha-256
"""


@dataclass(frozen=True)
class TcpPostgres:
    root: Path
    host: str
    port: int
    user: str
    password: str
    database: str

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.database,
        }

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, dbname=self.database)

    def stop(self) -> None:
        if not stop_postgres(self.root):
            raise RuntimeError(f"no PostgreSQL was running in {self.root}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_tcp_postgres(root: Path, database: str = "dagster") -> TcpPostgres:
    server = pgserver.get_server(root, cleanup_mode=None)
    password = secrets.token_hex(16)
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(database), sql.Literal(password)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(database), sql.Identifier(database)))
    socket_dir = server.get_postmaster_info().socket_dir
    (root / "pg_hba.conf").write_text(HBA)  # keeps the file's owner (the server's OS user)
    stop_postgres(root)
    port = _free_port()
    pgserver.pg_ctl(
        ["-w", "-o", f"-h 127.0.0.1 -p {port} -k {socket_dir}", "-l", str(root / "log"),
         "start"],
        pgdata=root, user=server.system_user, timeout=30,
    )
    return TcpPostgres(root=root, host="127.0.0.1", port=port,
                       user=database, password=password, database=database)
