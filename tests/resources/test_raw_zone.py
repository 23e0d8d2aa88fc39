"""The raw zone's write-audit-publish guarantees, on real Parquet files and real DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import duckdb
import pytest

from resources.raw_zone import RawZone, TableRef, warehouse_lock

CUSTOMERS = TableRef("shop", "customers")
INVENTORY = TableRef("shop", "inventory", snapshot=True)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def zone(tmp_path):
    return RawZone(tmp_path / "raw", tmp_path / "warehouse.duckdb")


def publish(zone: RawZone, ref: TableRef, rows: list[tuple[int, datetime, dict]]) -> str:
    batch = zone.stage(ref, run_id="test-run")
    for pk, modified_at, record in rows:
        batch.add(pk, modified_at, json.dumps(record))
    zone.publish(batch)
    return batch.batch_id


def current(zone: RawZone, ref: TableRef) -> list[tuple]:
    with zone.reader([ref]) as db:
        return db.execute(
            f"SELECT _pk, record->>'$.v' FROM {ref.schema}.{ref.table} ORDER BY _pk"
        ).fetchall()


def test_current_view_keeps_the_latest_version_of_each_key(zone):
    """A key re-published with a later modification time replaces the older version."""
    publish(zone, CUSTOMERS, [(1, T0, {"v": "a"}), (2, T0, {"v": "b"})])
    publish(zone, CUSTOMERS, [(2, T0 + timedelta(hours=1), {"v": "b2"}), (3, T0, {"v": "c"})])
    assert current(zone, CUSTOMERS) == [(1, "a"), (2, "b2"), (3, "c")]


def test_an_older_version_arriving_later_does_not_win(zone):
    """Ordering is by modification time first, so a late re-read of stale data cannot regress."""
    publish(zone, CUSTOMERS, [(1, T0 + timedelta(hours=2), {"v": "new"})])
    publish(zone, CUSTOMERS, [(1, T0, {"v": "old"})])
    assert current(zone, CUSTOMERS) == [(1, "new")]


def test_rerunning_the_same_extraction_leaves_no_duplicates_and_keeps_every_batch(zone):
    """Two identical batches: the current view is unchanged, the audit trail holds both."""
    rows = [(pk, T0, {"v": str(pk)}) for pk in range(1, 101)]
    first = publish(zone, CUSTOMERS, rows)
    second = publish(zone, CUSTOMERS, rows)
    assert len(current(zone, CUSTOMERS)) == 100
    with zone.reader([CUSTOMERS]) as db:
        batches = db.execute(
            "SELECT _batch_id, count(*) FROM raw_shop.customers__batches GROUP BY 1 ORDER BY 1"
        ).fetchall()
        latest = db.execute("SELECT DISTINCT _batch_id FROM raw_shop.customers").fetchall()
    assert batches == [(first, 100), (second, 100)]
    assert latest == [(second,)]  # ties on time go to the newest batch


def test_snapshot_tables_show_only_the_latest_batch(zone):
    """Inventory is re-read whole: a variant missing from the latest snapshot is gone."""
    publish(zone, INVENTORY, [(1, T0, {"v": "x"}), (2, T0, {"v": "y"})])
    publish(zone, INVENTORY, [(2, T0, {"v": "y2"})])
    assert current(zone, INVENTORY) == [(2, "y2")]


def test_a_crash_between_stage_and_publish_leaves_the_published_state_unchanged(zone, tmp_path):
    """A process killed after staging rows but before publishing changes nothing visible."""
    publish(zone, CUSTOMERS, [(1, T0, {"v": "a"})])
    before = current(zone, CUSTOMERS)
    script = f"""
import json, os, signal
from datetime import datetime, UTC
from resources.raw_zone import RawZone, TableRef
zone = RawZone({str(zone.paths.root)!r}, {str(zone.warehouse)!r})
batch = zone.stage(TableRef("shop", "customers"), run_id="doomed")
for pk in range(1, 50_001):
    batch.add(pk, datetime.now(UTC), json.dumps({{"v": "crash"}}))
batch.seal()
os.kill(os.getpid(), signal.SIGKILL)
"""
    crashed = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert crashed.returncode == -9
    staged = list((zone.paths.root / "staging").rglob("*.parquet"))
    assert len(staged) == 1  # the orphan is kept for inspection, outside every view
    assert current(zone, CUSTOMERS) == before


def test_readers_see_a_batch_whole_or_not_at_all(zone):
    """While batches of 5,000 rows publish, every count a reader sees is a multiple of 5,000."""
    publish(zone, CUSTOMERS, [(pk, T0, {"v": "0"}) for pk in range(5_000)])
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            with zone.reader([CUSTOMERS]) as db:
                query = "SELECT count(*) FROM raw_shop.customers__batches"
                seen.add(db.execute(query).fetchone()[0])

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(1, 6):
        publish(zone, CUSTOMERS, [(n * 5_000 + pk, T0, {"v": str(n)}) for pk in range(5_000)])
    done.set()
    reader.join()
    assert seen and all(count % 5_000 == 0 for count in seen), seen


def test_quarantined_records_land_in_the_quarantine_view_with_their_rule(zone):
    """A quarantined record is kept whole, with rule, column and reason, queryable in DuckDB."""
    batch = zone.stage(CUSTOMERS, run_id="r1")
    batch.add(1, T0, json.dumps({"v": "ok"}))
    batch.quarantine(rule="primary_key_integer", column="id", reason="id is not an integer: 'x'",
                 raw='{"id": "x"}')
    zone.publish(batch)
    with zone.reader([CUSTOMERS]) as db:
        rows = db.execute(
            "SELECT _run_id, _rule, _column, _reason, record FROM quarantine.shop__customers"
        ).fetchall()
    assert rows == [("r1", "primary_key_integer", "id", "id is not an integer: 'x'",
                     '{"id": "x"}')]
    assert current(zone, CUSTOMERS) == [(1, "ok")]


def test_audited_rows_move_from_the_batch_to_quarantine_with_their_rule(zone):
    """`quarantine_rows` takes the named rows out of the staged file before publishing."""
    batch = zone.stage(CUSTOMERS, run_id="r1")
    for pk in (1, 2, 3):
        batch.add(pk, T0, json.dumps({"v": f"v{pk}"}))
    batch.seal_rows()
    why = SimpleNamespace(stage="schema_contract", rule="not_nullable", column="v",
                                reason="v is null")
    assert batch.quarantine_rows({2: why}) == 1 and batch.rows == 2
    zone.publish(batch)
    assert current(zone, CUSTOMERS) == [(1, "v1"), (3, "v3")]
    with zone.reader([CUSTOMERS]) as db:
        moved = db.execute("SELECT _row, _stage, _rule, _pk, record->>'$.v' "
                           "FROM quarantine.shop__customers").fetchall()
    assert moved == [(2, "schema_contract", "not_nullable", 2, "v2")]


def test_quarantine_older_than_the_retention_is_deleted_on_the_next_publish(tmp_path):
    zone = RawZone(tmp_path / "raw", tmp_path / "w.duckdb", quarantine_retention_days=30)
    old = zone.stage(CUSTOMERS, run_id="r1")
    old.quarantine(rule="r", column=None, reason="old", raw="{}")
    zone.publish(old)
    new = zone.stage(CUSTOMERS, run_id="r2")
    new.quarantine(rule="r", column=None, reason="new", raw="{}")
    zone.publish(new)
    assert zone.prune_quarantine(CUSTOMERS, now=datetime.now(UTC) + timedelta(days=29)) == []
    expired = zone.prune_quarantine(CUSTOMERS, now=datetime.now(UTC) + timedelta(days=31))
    assert [path.stem for path in expired] == [old.batch_id, new.batch_id]
    assert RawZone(tmp_path / "raw", tmp_path / "w.duckdb").prune_quarantine(CUSTOMERS) == []


def test_the_warehouse_file_exposes_the_views_and_is_released_after_publish(zone):
    """dbt reads `raw_<source>.<table>` from the warehouse file, which no one keeps open."""
    publish(zone, CUSTOMERS, [(1, T0, {"v": "a"})])
    connection = duckdb.connect(str(zone.warehouse))  # would fail if a writer still held it
    try:
        assert connection.execute("SELECT count(*) FROM raw_shop.customers").fetchone() == (1,)
    finally:
        connection.close()


def test_publishing_waits_for_the_warehouse_lock(zone):
    """While dbt (or another publish) holds the lock, a publish waits instead of failing."""
    publish(zone, CUSTOMERS, [(1, T0, {"v": "a"})])
    released = threading.Event()
    order: list[str] = []

    def hold() -> None:
        with warehouse_lock(zone.warehouse):
            order.append("held")
            released.wait(timeout=10)
            order.append("released")

    holder = threading.Thread(target=hold)
    holder.start()
    while not order:
        pass
    publisher = threading.Thread(
        target=lambda: (publish(zone, CUSTOMERS, [(2, T0, {"v": "b"})]), order.append("published"))
    )
    publisher.start()
    publisher.join(timeout=0.5)
    assert publisher.is_alive()  # blocked on the lock
    released.set()
    publisher.join(timeout=10)
    holder.join()
    assert order == ["held", "released", "published"]


def test_watermark_is_the_latest_published_modification_time(zone):
    assert zone.watermark(CUSTOMERS) is None
    publish(zone, CUSTOMERS, [(1, T0, {"v": "a"}), (2, T0 + timedelta(days=1), {"v": "b"})])
    assert zone.watermark(CUSTOMERS) == T0 + timedelta(days=1)
