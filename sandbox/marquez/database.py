"""Marquez's own PostgreSQL: a pgserver data folder, served over TCP on 127.0.0.1.

Marquez reaches its database through JDBC, which speaks TCP only, while pgserver serves a Unix
socket only. So pgserver makes the data folder once (initdb; as root it also creates the
`pgserver` OS user the server runs as), the `marquez` role and a `marquez` database owned by it
(PostgreSQL 15+ lets only the owner create tables in `public`, and Flyway creates Marquez's),
and every start after that is pgserver's `pg_ctl` listening on 127.0.0.1 with no socket at all.
TCP needs the role's password (scram-sha-256): the password lives beside the data folder, mode
0600, and in nothing that is committed.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql

from sandbox.postgres import stop_postgres

ROLE = DATABASE = "marquez"
START_TIMEOUT_S = 60
_HBA = """\
local all all trust
host all all 127.0.0.1/32 scram-sha-256
"""
_READY = ".marquez-ready"  # written once the role and database exist


class DatabaseError(RuntimeError):
    """PostgreSQL did not start; the message is one line and names its log."""


@dataclass(frozen=True)
class Database:
    folder: Path  # the data folder (PGDATA)
    port: int
    password: str
    user: str = ROLE
    name: str = DATABASE

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{self.name}"

    @property
    def log(self) -> Path:
        return self.folder / "log"  # inside PGDATA: the server's OS user can write there

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.user,
                               password=self.password, dbname=self.name)


def start(folder: Path, port: int) -> Database:
    """Start the server of `folder` on 127.0.0.1:`port`, creating it first if it is new."""
    folder = Path(folder).resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    password = _password(folder)
    if not (folder / _READY).exists():
        _create(folder, password)
    try:
        _pgserver().pg_ctl(
            ["-w", "-o", f"-h 127.0.0.1 -p {port} -c unix_socket_directories=''",
             "-l", str(folder / "log"), "start"],
            pgdata=folder, user=_os_user(), timeout=START_TIMEOUT_S,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        reason = "timed out" if isinstance(error, subprocess.TimeoutExpired) else "failed"
        raise DatabaseError(
            f"Marquez's PostgreSQL {reason} to start on 127.0.0.1:{port} "
            f"({_last_line(folder / 'log')}); its log: {folder / 'log'}"
        ) from None
    return Database(folder, port, password)


def stop(folder: Path) -> bool:
    """Fast shutdown of the server of `folder`; False if none was running."""
    return stop_postgres(Path(folder).resolve())


def _create(folder: Path, password: str) -> None:
    # cleanup_mode=None: this handle must not stop the server at exit; it is stopped below and
    # restarted on TCP.
    server = _pgserver().get_server(folder, cleanup_mode=None)
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        role = sql.Identifier(ROLE)
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (DATABASE,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(DATABASE), role))
    (folder / "pg_hba.conf").write_text(_HBA)  # rewriting keeps the server user's ownership
    stop_postgres(folder)
    (folder / _READY).write_text("")


def _password(folder: Path) -> str:
    path = folder.parent / f"{folder.name}.password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(16))
    return path.read_text().strip()


def _os_user() -> str | None:
    # As root pgserver runs the server as `pgserver` (PostgreSQL refuses to run as root); that
    # user exists from the folder's creation on.
    return "pgserver" if os.geteuid() == 0 else None


def _pgserver() -> ModuleType:
    # Without XDG_RUNTIME_DIR platformdirs warns at pgserver's import that it falls back to
    # /tmp/runtime-<uid>; that is fine here, as in sandbox/postgres.py.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    found = [line.strip() for line in lines if "FATAL" in line or "ERROR" in line]
    last = (found or [line.strip() for line in lines if line.strip()] or ["no log"])[-1]
    return last if len(last) <= 200 else last[:197] + "..."
