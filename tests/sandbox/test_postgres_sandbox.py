"""The embedded `wise` PostgreSQL: deterministic, consistent, idempotent, with a SELECT-only
reader role. Ground truth is read as the superuser through `admin_url`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from sandbox import postgres_seed
from sandbox.postgres import READER_ROLE, start_postgres

ANCHOR = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIZE = 200


@pytest.fixture(scope="module")
def pg_root(tmp_path_factory):
    return tmp_path_factory.mktemp("pg_sb")


@pytest.fixture(scope="module")
def sandbox(pg_root):
    sandbox = start_postgres(pg_root, size=SIZE, anchor=ANCHOR)
    yield sandbox
    sandbox.server.cleanup()


def admin_rows(sandbox, query: str, params=None) -> list[tuple]:
    with psycopg.connect(sandbox.admin_url) as conn:
        return conn.execute(query, params).fetchall()


def fingerprint(sandbox) -> list[tuple]:
    return admin_rows(
        sandbox,
        "SELECT 'pt', count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM point_transaction t"
        " UNION ALL "
        "SELECT 'q', count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM quotation t",
    )


def test_tables_hold_the_expected_row_counts(sandbox):
    """size=200 gives 3 * size point transactions and max(10, size // 5) quotations, in the
    `wise` database, with customer ids inside the BigCommerce sandbox range 1..size."""
    assert sandbox.database == "wise"
    [(count, lowest, highest)] = admin_rows(
        sandbox, "SELECT count(*), min(customer_id), max(customer_id) FROM point_transaction"
    )
    assert count == 3 * SIZE and 1 <= lowest <= highest <= SIZE
    assert admin_rows(sandbox, "SELECT count(*) FROM quotation") == [(40,)]
    assert admin_rows(sandbox, "SELECT count(*) FROM quotation "
                               "WHERE customer_id NOT BETWEEN 1 AND %s", (SIZE,)) == [(0,)]


def test_point_balances_are_consistent_per_customer(sandbox):
    """balance_after is the running sum of points per customer in (created_at, id) order, never
    negative; earn is positive and redeem/expire negative."""
    broken = admin_rows(sandbox, """
        SELECT id FROM (
            SELECT id, balance_after, sum(points) OVER (
                PARTITION BY customer_id ORDER BY created_at, id) AS running
            FROM point_transaction) t
        WHERE balance_after <> running OR balance_after < 0""")
    assert broken == []
    signs = dict(admin_rows(sandbox, """
        SELECT transaction_type, bool_and(CASE transaction_type WHEN 'earn' THEN points > 0
                                          WHEN 'adjust' THEN points <> 0 ELSE points < 0 END)
        FROM point_transaction GROUP BY 1"""))
    assert signs == {"earn": True, "redeem": True, "expire": True, "adjust": True}


def test_quotations_are_well_formed(sandbox):
    """total_amount equals the sum of quantity * unit_price over the items; numbers, phones
    and emails have their real-world shapes; expired quotations are past valid_until."""
    assert admin_rows(sandbox, """
        SELECT count(*) FROM quotation q
        WHERE total_amount <> (SELECT sum((i->>'quantity')::numeric * (i->>'unit_price')::numeric)
                               FROM jsonb_array_elements(q.items) i)
           OR quotation_number !~ '^Q-\\d{4}-\\d{6}$'
           OR contact_phone !~ '^010-\\d{4}-\\d{4}$'
           OR contact_email !~ '^[a-z.]+@[a-z0-9.-]+$'
           OR jsonb_array_length(items) = 0
           OR (status = 'expired' AND valid_until >= (%s AT TIME ZONE 'Asia/Seoul')::date)
    """, (ANCHOR,)) == [(0,)]


def test_dates_lie_in_the_eight_weeks_before_the_anchor(sandbox):
    """Every created_at/updated_at is within [anchor - 8 weeks, anchor] and created_at never
    follows updated_at."""
    for table in ("point_transaction", "quotation"):
        assert admin_rows(sandbox, f"""
            SELECT count(*) FROM {table}
            WHERE created_at > updated_at OR created_at < %(start)s OR updated_at > %(anchor)s
        """, {"start": ANCHOR - timedelta(weeks=8), "anchor": ANCHOR}) == [(0,)]


def test_about_ten_percent_were_updated_in_the_last_day():
    """The generator skews updates so ~10% of rows fall in the 24 hours before the anchor
    (checked on a larger, pure generation to keep the sample meaningful)."""
    recent = ANCHOR - timedelta(hours=24)
    for rows, updated in ((postgres_seed.point_transactions(2000, 7, ANCHOR), -1),
                          (postgres_seed.quotations(5000, 7, ANCHOR), -1)):
        share = sum(row[updated] >= recent for row in rows) / len(rows)
        assert 0.07 < share < 0.13


def test_seeding_is_deterministic(sandbox):
    """Same seed -> identical rows (and what the server holds is exactly that); another seed
    gives other rows."""
    points = postgres_seed.point_transactions(SIZE, 42, ANCHOR)
    quotes = postgres_seed.quotations(SIZE, 42, ANCHOR)
    assert points == postgres_seed.point_transactions(SIZE, 42, ANCHOR)
    assert quotes == postgres_seed.quotations(SIZE, 42, ANCHOR)
    assert points != postgres_seed.point_transactions(SIZE, 43, ANCHOR)
    assert admin_rows(sandbox, "SELECT * FROM point_transaction ORDER BY id") == points
    stored = admin_rows(sandbox, "SELECT * FROM quotation ORDER BY id")
    assert stored == [(*row[:9], Decimal(row[9]), json.loads(row[10]), *row[11:]) for row in quotes]


def test_second_start_reuses_the_data(sandbox, pg_root):
    """A second start_postgres on the same folder (even with another size, seed and anchor)
    reuses the seeded data: same counts, same content, no reseed or duplicates."""
    before = fingerprint(sandbox)
    again = start_postgres(pg_root, size=999, seed=7)
    assert again.admin_url == sandbox.admin_url and again.reader_url == sandbox.reader_url
    assert fingerprint(again) == before


def test_data_survives_a_restart_and_a_long_folder_name(tmp_path_factory):
    """Stopping the server and starting it again on the same folder keeps the data without
    reseeding; a folder too long for a Unix socket path still works (the socket moves)."""
    root = tmp_path_factory.mktemp("pg_restart") / ("long-folder-name-" * 6)
    first = start_postgres(root, size=20, anchor=ANCHOR)
    try:
        assert f"host={root}" not in first.admin_url  # socket relocated by pgserver
        before = fingerprint(first)
        assert before[0][1] == 60 and before[1][1] == 10
        first.server.cleanup()
        second = start_postgres(root, size=20, seed=1)
        try:
            assert fingerprint(second) == before
        finally:
            second.server.cleanup()
    finally:
        first.server.cleanup()


def test_reader_role_holds_select_on_the_two_tables_only(sandbox):
    """gov_reader: LOGIN, not superuser, cannot create databases or roles or replicate, belongs
    to no role, holds SELECT on exactly point_transaction and quotation, CONNECT on `wise`, no
    CREATE anywhere, and defaults to read-only transactions."""
    (attrs,) = admin_rows(sandbox, """
        SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
               rolconfig
        FROM pg_roles WHERE rolname = %s""", (READER_ROLE,))
    assert attrs == (True, False, False, False, False, False,
                     ["default_transaction_read_only=on"])
    assert admin_rows(sandbox, """
        SELECT table_schema, table_name, privilege_type FROM information_schema.table_privileges
        WHERE grantee = %s ORDER BY table_name""", (READER_ROLE,)) == [
        ("public", "point_transaction", "SELECT"), ("public", "quotation", "SELECT")]
    assert admin_rows(sandbox, """
        SELECT has_database_privilege(%(r)s, 'wise', 'CONNECT'),
               has_database_privilege(%(r)s, 'wise', 'CREATE'),
               has_database_privilege(%(r)s, 'wise', 'TEMPORARY'),
               has_schema_privilege(%(r)s, 'public', 'USAGE'),
               has_schema_privilege(%(r)s, 'public', 'CREATE'),
               (SELECT count(*) FROM pg_auth_members WHERE member = %(r)s::regrole)""",
                      {"r": READER_ROLE}) == [(True, False, False, True, False, 0)]


def test_drifted_privileges_are_repaired_on_the_next_start(sandbox, pg_root):
    """If someone grants the reader more (a write privilege, a powerful role), the next
    start_postgres takes it away again: the setup is idempotent and self-healing."""
    with psycopg.connect(sandbox.admin_url, autocommit=True) as conn:
        conn.execute(f"GRANT INSERT, DELETE ON quotation TO {READER_ROLE}")
        conn.execute(f"GRANT pg_read_server_files TO {READER_ROLE}")
        conn.execute(f"ALTER ROLE {READER_ROLE} CREATEDB")
    start_postgres(pg_root, size=SIZE)
    assert admin_rows(sandbox, """
        SELECT has_table_privilege(%(r)s, 'quotation', 'INSERT'),
               has_table_privilege(%(r)s, 'quotation', 'DELETE'),
               pg_has_role(%(r)s, 'pg_read_server_files', 'MEMBER'),
               (SELECT rolcreatedb FROM pg_roles WHERE rolname = %(r)s)""",
                      {"r": READER_ROLE}) == [(False, False, False, False)]
