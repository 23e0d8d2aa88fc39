"""Read-only PostgreSQL source resource (`WISE_POSTGRES_URL` in production).

Sources are read-only *by construction, on the server side* (an invariant of the platform's
design: a read-only role and read-only sessions, not a scan of the SQL text). The layers,
strongest first:

1. **A role without write privileges.** The URL must name a non-superuser role holding only
   `CONNECT`, `USAGE` on the schema and `SELECT` on the source tables (the sandbox's `gov_reader`).
   PostgreSQL itself then refuses every write, DDL, `COPY ... TO PROGRAM` and file access with
   `42501 insufficient_privilege`, whatever the SQL text looks like. This is the real enforcement.
2. **`default_transaction_read_only = on`** on that role (`ALTER ROLE ... SET`), and again in the
   session's startup options: every transaction starts read-only (`25006`).
3. **A read-only transaction** from the client (`conn.read_only = True`, i.e. `BEGIN READ ONLY`).
4. **Superuser refusal.** Layers 2 and 3 are advisory: a session may run `SET TRANSACTION READ
   WRITE`, and a superuser can run shell commands with `COPY ... TO PROGRAM` even inside a
   read-only transaction. So `connect()` checks `is_superuser` and refuses to go on.

Why not inspect the SQL? Matching words such as INSERT or DELETE in the query text is not
security: writable CTEs, `DO` blocks, functions with side effects, `COPY ... PROGRAM`, comments,
quoting and case tricks all get past a keyword filter, and it rejects harmless queries that merely
mention those words. Only the server knows what a statement does, so the server decides. In the
same spirit `stream_table` composes every identifier with `psycopg.sql.Identifier` and binds every
value as a parameter: names are quoted, never spliced into SQL text.

The password never leaves this module: logs use `redacted_url`, and connection errors are
re-raised as `PostgresConnectionError` with the password scrubbed and the original (whose text
libpq may build from the connection string) not chained.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import dagster as dg

if TYPE_CHECKING:  # imported where a connection opens: the code location loads without it
    import psycopg
    from psycopg import sql

_URL_SCHEMES = ("postgres", "postgresql")
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:\\.|[^'])*'|\S+)", re.IGNORECASE)


class PostgresConnectionError(RuntimeError):
    """Connecting failed; the message carries the redacted URL, never the password."""


class SuperuserRefusedError(PermissionError):
    """The URL authenticates as a superuser, which no read-only layer can contain."""


def redact_url(url: str) -> str:
    """The URL (or key=value DSN) with its password replaced by `***`."""
    parts = urlsplit(url) if url.split(":", 1)[0].lower() in _URL_SCHEMES else None
    if parts is None:
        return _KV_PASSWORD.sub(r"\1***", url)
    netloc = parts.netloc
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    # rebuilt by hand: urlunsplit would turn `postgresql:///db` (empty host) into `postgresql:/db`
    return (
        f"{parts.scheme}://{netloc}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def _passwords(url: str) -> set[str]:
    """Every spelling of the password in `url` (raw and percent-decoded), for scrubbing."""
    found: set[str] = set()
    if url.split(":", 1)[0].lower() in _URL_SCHEMES:
        userinfo = urlsplit(url).netloc.rpartition("@")[0]
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
        found.update(re.findall(r"(?i)(?:^|&)password=([^&]*)", urlsplit(url).query))
    else:
        found.update(m.group(2).strip("'") for m in _KV_PASSWORD.finditer(url))
    found |= {unquote(p) for p in found}
    return {p for p in found if p}


def _scrub(message: str, url: str) -> str:
    for password in sorted(_passwords(url), key=len, reverse=True):
        message = message.replace(password, "***")
    return message


class PostgresResource(dg.ConfigurableResource):
    """Streams rows from a PostgreSQL source through a read-only, non-superuser session."""

    url: str
    chunk_rows: int = 5_000
    connect_timeout_s: int = 10
    statement_timeout_ms: int = 600_000
    application_name: str = "commerce-governance"

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """`repr()` and `str()` show the redacted URL (a logged resource leaks nothing)."""
        for name, value in super().__repr_args__():
            yield name, (self.redacted_url if name == "url" else value)

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """A read-only connection (rows as dicts); refuses superusers; always rolled back."""
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
        from psycopg.rows import dict_row

        options = (
            f"-c statement_timeout={int(self.statement_timeout_ms)} "
            "-c default_transaction_read_only=on -c TimeZone=UTC"
        )
        failure: str | None = None
        try:
            given = conninfo_to_dict(self.url).get("options")  # keep the URL's own options
            conn = psycopg.connect(
                self.url,
                connect_timeout=self.connect_timeout_s,
                application_name=self.application_name,
                options=f"{given} {options}" if given else options,
                row_factory=dict_row,
            )
        except psycopg.Error as error:  # libpq may quote the connection string back
            failure = _scrub(str(error).strip(), self.url)
        if failure is not None:  # raised outside `except`: the original is not even __context__
            raise PostgresConnectionError(f"could not connect to {self.redacted_url}: {failure}")
        try:
            conn.read_only = True
            row = conn.execute(
                "SELECT current_user AS role, current_setting('is_superuser') AS is_superuser"
            ).fetchone()
            conn.rollback()
            if row is None or row["is_superuser"] != "off":
                role = row["role"] if row else "?"
                raise SuperuserRefusedError(
                    f"refusing to extract as PostgreSQL role {role!r}: it is a superuser, and "
                    "a superuser can write (and run programs) whatever the session settings. "
                    "Connect as a read-only role (LOGIN, NOSUPERUSER, SELECT-only grants on the "
                    f"source tables) instead; URL used: {self.redacted_url}"
                )
            yield conn
        finally:
            conn.close()  # closing without COMMIT: nothing is ever committed

    def stream(
        self,
        query: sql.Composable | str,
        params: Mapping[str, Any] | Sequence[Any] | None = None,
        *,
        chunk_rows: int | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Run `query` through a server-side cursor, yielding lists of at most `chunk_rows` row
        dicts; only one chunk is ever held in memory. Values come back as Python types."""
        size = self.chunk_rows if chunk_rows is None else chunk_rows
        if size < 1:  # checked now, not at the first next()
            raise ValueError(f"chunk_rows must be at least 1, got {size}")
        return self._stream(query, params, size)

    def _stream(
        self,
        query: sql.Composable | str,
        params: Mapping[str, Any] | Sequence[Any] | None,
        size: int,
    ) -> Iterator[list[dict[str, Any]]]:
        with self.connect() as conn:  # one read-only transaction: one consistent snapshot
            name = f"gov_stream_{uuid.uuid4().hex[:16]}"
            with conn.cursor(name=name) as cursor:  # named = server-side (DECLARE ... CURSOR)
                cursor.itersize = size
                cursor.execute(query, params)
                while rows := cursor.fetchmany(size):
                    yield rows

    def stream_table(
        self,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        modified_column: str | None = None,
        since: datetime | None = None,
        order_by: Sequence[str] = ("id",),
        schema: str = "public",
        chunk_rows: int | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Stream `schema.table` (optionally only rows with `modified_column >= since`), ordered
        by `order_by`. Every name is an `sql.Identifier`; `since` is a bound parameter."""
        if since is not None:
            if modified_column is None:
                raise ValueError("`since` needs `modified_column` to filter on")
            if since.tzinfo is None:
                raise ValueError("`since` must be timezone-aware")
        if isinstance(columns, str) or isinstance(order_by, str):
            raise TypeError("`columns` and `order_by` take a sequence of names, not one string")
        names = [schema, table, *(columns or ()), *order_by]
        names += [modified_column] if modified_column else []
        for name in names:
            if not isinstance(name, str) or not name:
                raise ValueError(f"identifier must be a non-empty string, got {name!r}")
        from psycopg import sql

        selected = (
            sql.SQL(", ").join(sql.Identifier(c) for c in columns) if columns else sql.SQL("*")
        )
        query = sql.SQL("SELECT {} FROM {}").format(selected, sql.Identifier(schema, table))
        params: dict[str, Any] = {}
        if since is not None:
            query += sql.SQL(" WHERE {} >= %(since)s").format(sql.Identifier(modified_column))
            params["since"] = since
        if order_by:
            query += sql.SQL(" ORDER BY {}").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in order_by)
            )
        dg.get_dagster_logger().debug(
            "streaming %s.%s from %s (since=%s)", schema, table, self.redacted_url, since
        )
        return self.stream(query, params or None, chunk_rows=chunk_rows)
