"""Invariant 7: PostgreSQL sources are read-only by construction, on the server side.

Every hostile statement goes through `PostgresResource` connected as `gov_reader`, and the proof
that it was refused is the server's SQLSTATE plus an unchanged database (checked as the
superuser). Nothing here inspects SQL text.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql

from resources.postgres import (
    PostgresConnectionError,
    PostgresResource,
    SuperuserRefusedError,
    redact_url,
)
from sandbox.postgres import start_postgres

ANCHOR = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
READ_ONLY = "25006"  # read_only_sql_transaction
NO_PRIVILEGE = "42501"  # insufficient_privilege
DUMMY_PASSWORD = "Sup3r-S3cret-pw"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    sandbox = start_postgres(tmp_path_factory.mktemp("pg_ro"), size=200, anchor=ANCHOR)
    yield sandbox
    sandbox.server.cleanup()


@pytest.fixture(scope="module")
def reader(sandbox) -> PostgresResource:
    return PostgresResource(url=sandbox.reader_url)


def admin_one(sandbox, query: str, params=None):
    with psycopg.connect(sandbox.admin_url) as conn:
        return conn.execute(query, params).fetchone()[0]


def snapshot(sandbox) -> tuple:
    """Row counts and a content checksum of both source tables, read as the superuser."""
    with psycopg.connect(sandbox.admin_url) as conn:
        return tuple(
            conn.execute(
                sql.SQL("SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM {} t")
                .format(sql.Identifier(table))
            ).fetchone()
            for table in ("point_transaction", "quotation")
        )


def with_password(url: str, password: str) -> str:
    """The sandbox's socket URL with a password added (trust auth ignores it)."""
    return url.replace(":@/", f":{password}@/", 1)


HOSTILE = [
    ("insert", ["INSERT INTO point_transaction VALUES (9999, 1, NULL, 'earn', 1, 1, 'x', now(), "
                "now())"], READ_ONLY),
    ("update", ["UPDATE point_transaction SET points = 0"], READ_ONLY),
    ("delete", ["DELETE FROM quotation"], READ_ONLY),
    ("drop-table", ["DROP TABLE quotation"], READ_ONLY),
    ("create-table", ["CREATE TABLE evil (id int)"], READ_ONLY),
    ("truncate", ["TRUNCATE point_transaction"], READ_ONLY),
    ("writable-cte", ["WITH x AS (DELETE FROM point_transaction RETURNING *) SELECT * FROM x"],
     READ_ONLY),
    ("do-block", ["DO $$ BEGIN DELETE FROM quotation; END $$"], READ_ONLY),
    ("grant", ["GRANT INSERT ON quotation TO gov_reader"], READ_ONLY),
    ("pg_read_file", ["SELECT pg_read_file('/etc/passwd')"], NO_PRIVILEGE),
    ("copy-to-file", ["COPY point_transaction TO '/tmp/gov-reader-copy.csv'"], NO_PRIVILEGE),
    ("set-role", ["SET ROLE postgres"], NO_PRIVILEGE),
    ("set-transaction-read-write",
     ["SET TRANSACTION READ WRITE", "INSERT INTO quotation (id) VALUES (424242)"], NO_PRIVILEGE),
]


@pytest.mark.parametrize(("statements", "sqlstate"), [h[1:] for h in HOSTILE],
                         ids=[h[0] for h in HOSTILE])
def test_reader_writes_are_refused_by_the_server(sandbox, reader, statements, sqlstate):
    """Each write, DDL, privilege or file-access attempt through the resource fails with the
    server's own SQLSTATE (25006 read-only transaction or 42501 insufficient privilege), and
    both tables are byte-for-byte unchanged afterwards."""
    before = snapshot(sandbox)
    with pytest.raises(psycopg.Error) as refused, reader.connect() as conn:
        for statement in statements:
            conn.execute(statement)
    assert refused.value.sqlstate == sqlstate, refused.value
    assert snapshot(sandbox) == before


def test_copy_to_program_cannot_run_a_shell_command(sandbox, reader):
    """`COPY ... TO PROGRAM` (a superuser's shell escape) is refused with 42501 and the program
    never runs: the file it would create does not exist."""
    target = Path(f"/tmp/pwned-{uuid.uuid4()}")
    before = snapshot(sandbox)
    with pytest.raises(errors.InsufficientPrivilege) as refused, reader.connect() as conn:
        conn.execute(f"COPY (SELECT 1) TO PROGRAM 'touch {target}'")
    assert refused.value.sqlstate == NO_PRIVILEGE
    assert not target.exists()
    assert snapshot(sandbox) == before


def test_privileges_hold_with_every_client_side_layer_switched_off(sandbox, reader):
    """The read-only settings are advisory: a session can turn all of them off (autocommit, no
    default read-only, SET TRANSACTION READ WRITE). The missing privileges still refuse the
    write (42501), which is why the role, not the settings, is the enforcement."""
    before = snapshot(sandbox)
    with reader.connect() as conn:
        conn.autocommit = True
        conn.read_only = False
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SET TRANSACTION READ WRITE")
            conn.execute("DELETE FROM point_transaction")
    assert snapshot(sandbox) == before


def test_superuser_url_is_refused_without_leaking_the_password(sandbox):
    """Connecting as a superuser is refused with a message that says to use a read-only role
    and names the role; the password in the URL appears nowhere in the error."""
    resource = PostgresResource(url=with_password(sandbox.admin_url, DUMMY_PASSWORD))
    with pytest.raises(SuperuserRefusedError) as refused, resource.connect():
        pass
    message = str(refused.value)
    assert "'postgres'" in message and "read-only role" in message and "SELECT-only" in message
    assert DUMMY_PASSWORD not in message and "***" in message


def test_connection_errors_never_contain_the_password(sandbox):
    """A failed connection (unknown database; a malformed password that libpq quotes back in
    its own message) raises PostgresConnectionError whose message, cause and context hold no
    password."""
    bad_database = with_password(sandbox.admin_url, DUMMY_PASSWORD).replace("/wise?", "/nope?")
    echoed = with_password(sandbox.admin_url, f"{DUMMY_PASSWORD}%zz")  # invalid %-escape
    malformed_dsn = f"host=/nonexistent password={DUMMY_PASSWORD} dbname"
    for url in (bad_database, echoed, malformed_dsn):
        with pytest.raises(PostgresConnectionError) as failed, PostgresResource(url=url).connect():
            pass
        assert DUMMY_PASSWORD not in str(failed.value)
        assert failed.value.__cause__ is None and failed.value.__context__ is None


def test_redacted_url_and_repr_hide_the_password():
    """`redacted_url`, `repr()` and `str()` of the resource replace every password spelling."""
    url = f"postgresql://reader:{DUMMY_PASSWORD}@db.internal:5432/wise?sslmode=require"
    resource = PostgresResource(url=url)
    assert resource.redacted_url == "postgresql://reader:***@db.internal:5432/wise?sslmode=require"
    assert DUMMY_PASSWORD not in repr(resource) and DUMMY_PASSWORD not in str(resource)
    assert redact_url(f"host=db password={DUMMY_PASSWORD} user=r") == "host=db password=*** user=r"
    assert redact_url(f"postgresql:///wise?password={DUMMY_PASSWORD}") == (
        "postgresql:///wise?password=***"
    )


def test_stream_table_yields_every_row_once_in_bounded_chunks(sandbox, reader):
    """With chunk_rows=37 every chunk holds at most 37 row dicts, and the chunks together hold
    each row of the table exactly once, in id order."""
    chunks = list(reader.stream_table("point_transaction", chunk_rows=37))
    ids = [row["id"] for chunk in chunks for row in chunk]
    assert all(0 < len(chunk) <= 37 for chunk in chunks)
    assert len(ids) == admin_one(sandbox, "SELECT count(*) FROM point_transaction") == 600
    assert ids == sorted(set(ids))


def test_stream_table_since_matches_the_server_count(sandbox, reader):
    """`since` keeps exactly the rows with modified_column >= since, the same count the
    superuser computes, and only those."""
    since = ANCHOR - timedelta(hours=24)
    rows = [
        row
        for chunk in reader.stream_table(
            "quotation", modified_column="updated_at", since=since, chunk_rows=5
        )
        for row in chunk
    ]
    expected = admin_one(sandbox, "SELECT count(*) FROM quotation WHERE updated_at >= %s", (since,))
    assert 0 < len(rows) == expected
    assert all(row["updated_at"] >= since for row in rows)


def test_stream_table_returns_python_types_and_selected_columns(reader):
    """numeric -> Decimal, timestamptz -> aware datetime, jsonb -> list of dicts, date -> date;
    `columns` limits the keys to the ones asked for."""
    row = next(reader.stream_table("quotation", chunk_rows=1))[0]
    assert isinstance(row["total_amount"], Decimal)
    assert row["created_at"].tzinfo is not None and row["created_at"].utcoffset() == timedelta(0)
    assert isinstance(row["items"], list) and {"sku", "name", "quantity", "unit_price"} <= set(
        row["items"][0]
    )
    assert isinstance(row["valid_until"], date) and not isinstance(row["valid_until"], datetime)
    first = next(reader.stream_table("point_transaction", columns=["id", "points"]))[0]
    assert set(first) == {"id", "points"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"table": "point_transaction; DROP TABLE quotation; --"}, errors.UndefinedTable),
        ({"table": 'quotation" ; DROP TABLE quotation; --'}, errors.UndefinedTable),
        ({"table": "quotation", "schema": "public; DROP TABLE quotation"}, errors.UndefinedTable),
        ({"table": "quotation", "columns": ["id; DROP TABLE quotation; --"]},
         errors.UndefinedColumn),
        ({"table": "quotation", "order_by": ["id; DROP TABLE quotation"]},
         errors.UndefinedColumn),
        ({"table": "quotation", "modified_column": "updated_at >= now() OR 1=1 --",
          "since": ANCHOR}, errors.UndefinedColumn),
    ],
    ids=["table", "table-with-quote", "schema", "column", "order-by", "modified-column"],
)
def test_hostile_identifiers_are_quoted_never_executed(sandbox, reader, kwargs, error):
    """A name carrying SQL is one quoted identifier: the server reports it as an unknown table
    or column, and the smuggled DROP never runs (both tables unchanged)."""
    before = snapshot(sandbox)
    table = kwargs.pop("table")
    with pytest.raises(error):
        list(reader.stream_table(table, **kwargs))
    assert snapshot(sandbox) == before


def test_stream_uses_a_server_side_cursor(sandbox):
    """The first chunk of a 100-million-row result arrives at once, well inside a 3 s statement
    timeout (a client-side cursor would have to receive every row first); closing the iterator
    early closes its connection."""
    resource = PostgresResource(
        url=sandbox.reader_url, statement_timeout_ms=3_000, application_name="gov-stream-test"
    )
    chunks = resource.stream("SELECT generate_series(1, 100000000) AS n", chunk_rows=1_000)
    first = next(chunks)
    assert [row["n"] for row in first] == list(range(1, 1_001))
    chunks.close()
    deadline = time.monotonic() + 5  # the backend exits shortly after the client disconnects
    while admin_one(
        sandbox, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
        ("gov-stream-test",),
    ):
        assert time.monotonic() < deadline, "the streaming connection was left open"
        time.sleep(0.05)


def test_stream_binds_parameters(reader):
    """`stream` accepts a composed query with bound parameters (values never spliced in)."""
    query = sql.SQL("SELECT id FROM {} WHERE customer_id = %(c)s OR description = %(d)s").format(
        sql.Identifier("point_transaction")
    )
    rows = [r for chunk in reader.stream(query, {"c": -1, "d": "x' OR '1'='1"}) for r in chunk]
    assert rows == []


def test_stream_table_rejects_ambiguous_arguments(reader):
    """`since` without a column, a naive `since`, a bare string for `columns` and a
    non-positive chunk size are errors, raised at the call (before any connection)."""
    with pytest.raises(ValueError, match="modified_column"):
        reader.stream_table("quotation", since=ANCHOR)
    with pytest.raises(ValueError, match="timezone-aware"):
        reader.stream_table("quotation", modified_column="updated_at", since=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="sequence of names"):
        reader.stream_table("quotation", columns="id")
    with pytest.raises(ValueError, match="chunk_rows"):
        reader.stream_table("quotation", chunk_rows=0)
