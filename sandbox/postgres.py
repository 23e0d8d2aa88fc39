"""The embedded PostgreSQL source: a `pgserver` instance holding the `wise` database.

`start_postgres(root)` starts (or reuses) the server whose data lives in `root`, creates the
`wise` database, seeds `point_transaction` and `quotation` once (see `postgres_seed`), and sets
up `gov_reader`, the role the platform extracts with. That role is read-only on the server side
(the platform's design requires sources read-only by construction): it is not a superuser, it
holds SELECT on exactly the two source tables and nothing else, and its sessions default to
read-only transactions as a second layer.

Everything here is idempotent and safe to run from several processes at once (a database-wide
advisory lock serialises the setup), so every Dagster step process may call it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from sandbox import postgres_seed

if TYPE_CHECKING:
    from pgserver import PostgresServer

log = logging.getLogger(__name__)

DATABASE = "wise"
READER_ROLE = "gov_reader"
SOURCE_TABLES = ("point_transaction", "quotation")
_SETUP_LOCK = 0x5749_5345  # pg_advisory_xact_lock key ("WISE")

_DDL = """
CREATE TABLE point_transaction (
    id               bigint PRIMARY KEY,
    customer_id      bigint NOT NULL,
    order_id         bigint,
    transaction_type text NOT NULL
        CHECK (transaction_type IN ('earn', 'redeem', 'expire', 'adjust')),
    points           integer NOT NULL,
    balance_after    integer NOT NULL,
    description      text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK ((transaction_type = 'earn' AND points > 0)
        OR (transaction_type IN ('redeem', 'expire') AND points < 0)
        OR (transaction_type = 'adjust' AND points <> 0))
);
CREATE TABLE quotation (
    id               bigint PRIMARY KEY,
    quotation_number text NOT NULL UNIQUE,
    customer_id      bigint,
    company_name     text,
    contact_name     text,
    contact_email    text,
    contact_phone    text,
    status           text CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired')),
    currency_code    text CHECK (currency_code IN ('KRW', 'USD')),
    total_amount     numeric(14, 4) NOT NULL,
    items            jsonb NOT NULL,
    valid_until      date,
    note             text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
"""
_INDEXES = """
CREATE INDEX point_transaction_updated_at_idx ON point_transaction (updated_at);
CREATE INDEX point_transaction_customer_idx ON point_transaction (customer_id, created_at);
CREATE INDEX quotation_updated_at_idx ON quotation (updated_at);
"""


@dataclass(frozen=True)
class PostgresSandbox:
    """Connection URLs of a running sandbox; `server` keeps the pgserver handle alive."""

    admin_url: str  # the `postgres` superuser, for seeding and for tests' ground truth only
    reader_url: str  # `gov_reader` over the Unix socket: what the platform extracts with
    database: str
    server: PostgresServer = field(repr=False, compare=False)


def start_postgres(
    root: Path,
    *,
    size: int = 500,
    seed: int = 42,
    anchor: datetime | None = None,
    cleanup_mode: str | None = "stop",
) -> PostgresSandbox:
    """Start (or reuse) the server in `root`, seed `wise` once and ensure the reader role.

    A second call on the same folder reuses the data as it is (whatever `size`, `seed` or
    `anchor` it is given), so extractions see a stable source across runs.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    if anchor is None:
        anchor = postgres_seed.default_anchor()
    elif anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)

    server = _get_server(Path(root), cleanup_mode)
    _ensure_database(server.get_uri())
    admin_url = server.get_uri(DATABASE)
    with psycopg.connect(admin_url) as conn:  # one transaction, committed on exit
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SETUP_LOCK,))
        if _seeded(conn):
            log.info("embedded PostgreSQL in %s: reusing seeded database %r", root, DATABASE)
        else:
            _create_and_seed(conn, size=size, seed=seed, anchor=anchor)
        _ensure_reader_role(conn)
    return PostgresSandbox(
        admin_url=admin_url,
        reader_url=_url_with_user(admin_url, READER_ROLE),
        database=DATABASE,
        server=server,
    )


def _get_server(root: Path, cleanup_mode: str | None) -> PostgresServer:
    # pgserver resolves its runtime folder at import; without XDG_RUNTIME_DIR platformdirs warns
    # about falling back to /tmp/runtime-<uid>, which is fine for us. pgserver itself moves the
    # socket there when `root` is too long for a Unix socket path.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver.get_server(root, cleanup_mode=cleanup_mode)


def _ensure_database(maintenance_url: str) -> None:
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if exists.fetchone():
            return
        # another process may create it between our check and our CREATE
        with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def _seeded(conn: psycopg.Connection[Any]) -> bool:
    present = [
        conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",)).fetchone()[0]
        for table in SOURCE_TABLES
    ]
    if any(present) and not all(present):  # cannot happen: tables and rows commit together
        raise RuntimeError(f"database {DATABASE!r} holds only some of {SOURCE_TABLES}")
    return all(present)


def _create_and_seed(
    conn: psycopg.Connection[Any], *, size: int, seed: int, anchor: datetime
) -> None:
    started = datetime.now(UTC)
    conn.execute(_DDL)
    tables = {
        "point_transaction": (postgres_seed.POINT_TRANSACTION_COLUMNS,
                              postgres_seed.point_transactions(size, seed, anchor)),
        "quotation": (postgres_seed.QUOTATION_COLUMNS,
                      postgres_seed.quotations(size, seed, anchor)),
    }
    with conn.cursor() as cur:
        for table, (columns, rows) in tables.items():
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            comment = f"sandbox seed: size={size} seed={seed} anchor={anchor.isoformat()}"
            cur.execute(
                sql.SQL("COMMENT ON TABLE {} IS {}").format(
                    sql.Identifier(table), sql.Literal(comment)
                )
            )
        cur.execute(_INDEXES)
        cur.execute("ANALYZE point_transaction")
        cur.execute("ANALYZE quotation")
    log.info(
        "embedded PostgreSQL: seeded %s (size=%d seed=%d) in %.2f s",
        ", ".join(f"{t}={len(rows)}" for t, (_, rows) in tables.items()),
        size, seed, (datetime.now(UTC) - started).total_seconds(),
    )


def _ensure_reader_role(conn: psycopg.Connection[Any]) -> None:
    """(Re)assert the reader's privileges: SELECT on the source tables and nothing else."""
    role, db = sql.Identifier(READER_ROLE), sql.Identifier(DATABASE)
    tables = sql.SQL(", ").join(sql.Identifier("public", t) for t in SOURCE_TABLES)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE ROLE {}").format(role))
    granted = conn.execute(
        "SELECT m.roleid::regrole::text FROM pg_auth_members m "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
        (READER_ROLE,),
    ).fetchall()
    for (name,) in granted:  # e.g. pg_read_server_files: no inherited powers at all
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(name), role))
    for statement in (
        "ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
        " NOBYPASSRLS",
        "REVOKE ALL ON DATABASE {db} FROM PUBLIC",  # no CONNECT/TEMPORARY for everyone
        "REVOKE ALL ON DATABASE {db} FROM {role}",
        "GRANT CONNECT ON DATABASE {db} TO {role}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "REVOKE ALL ON SCHEMA public FROM {role}",
        "GRANT USAGE ON SCHEMA public TO {role}",
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        "GRANT SELECT ON {tables} TO {role}",
        "ALTER ROLE {role} SET default_transaction_read_only = on",
    ):
        conn.execute(sql.SQL(statement).format(role=role, db=db, tables=tables))


def _url_with_user(url: str, user: str) -> str:
    """`postgresql://postgres:@/wise?host=/sock` -> `postgresql://<user>@/wise?host=/sock`."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}@{host}"))


def stop_postgres(root: Path, timeout_s: float = 30.0) -> bool:
    """Fast-shutdown the server whose data is in `root` (SIGINT to the postmaster, as
    `pg_ctl stop -m fast` does); returns False if none was running."""
    pid_file = Path(root) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGINT)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    raise TimeoutError(f"PostgreSQL in {root} did not stop within {timeout_s:.0f} s")
