"""The BigQuery raw zone against the emulator: batches staged by the real `StagedBatch`, loaded
into staging, published with their quarantine in one transaction, read back through the tables
and views dbt reads; and the one-line errors of bad settings and credentials.

One emulator serves the session (the first run builds `.venv-bqemulator`, about a minute). Each
test has a source of its own (`raw_<source>` datasets), so tests never see each other's rows.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from resources.bigquery import BigQueryError, BigQuerySettings, BigQueryZone, StagedFiles
from resources.bigquery.credentials import make_client
from resources.bigquery.settings import sql_id
from resources.raw_zone import RawZone, TableRef
from sandbox.bigquery import start
from tests.service_account import throwaway_key

T0 = datetime(2025, 3, 1, tzinfo=UTC)
BAD_TOTAL = ("quality", "total_non_negative", "total", "total is -5, below 0")
BLOCKED = ("policy", "batch_blocked", None, "batch blocked: 2 of 3 rows failed")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    with start(tmp_path_factory.mktemp("bigquery_zone")) as started:
        yield started


@pytest.fixture
def settings(emulator):
    return BigQuerySettings(project=emulator.project, emulator_host=emulator.endpoint)


@pytest.fixture
def zone(settings):
    return BigQueryZone.connect(settings)


@pytest.fixture
def raw(tmp_path):
    return RawZone(tmp_path / "raw", tmp_path / "warehouse.duckdb")


@pytest.fixture
def ref():
    return TableRef(f"t{uuid.uuid4().hex[:8]}", "orders")


def stage(raw: RawZone, ref: TableRef, versions, *, unparsable: int = 0, held: int = 0):
    """A batch through the real staging code: `versions` are (pk, minutes after T0, total)."""
    batch = raw.stage(ref, run_id="run-1")
    for pk, minutes, total in versions:
        row = batch.add(pk, T0 + timedelta(minutes=minutes),
                        json.dumps({"id": pk, "total": total}))
        if held:
            batch.hold_field(row, pk, "gift_note", "string", json.dumps(f"note {pk}"))
            held -= 1
    for _ in range(unparsable):
        batch.quarantine(rule="record_not_json", column=None, reason="not JSON", raw="{oops")
    return batch


def rows(zone: BigQueryZone, table_id: str, columns: str = "_pk, _row, record",
         order: str = "_pk, _batch_id, _row") -> list[tuple]:
    return zone.warehouse.query(f"SELECT {columns} FROM {sql_id(table_id)} ORDER BY {order}",
                                "reading back")


def staging_tables(zone: BigQueryZone, ref: TableRef) -> list[str]:
    staging = f"{zone.names.project}.raw_staging"
    return [t.table_id for t in zone.warehouse.client.list_tables(staging)
            if t.table_id.startswith(f"{ref.source}__")]


def totals(zone: BigQueryZone, table_id: str) -> list[tuple[int, int]]:
    return [(pk, json.loads(record)["total"]) for pk, _, record in rows(zone, table_id)]


@pytest.mark.slow
def test_a_staged_batch_publishes_with_its_quarantine_and_leaves_no_staging_behind(
        zone, raw, ref, monkeypatch):
    sent = []
    transport = zone.warehouse.client._connection
    request = transport.api_request

    def spy(method, path, *args, **kwargs):
        sent.append((method, path, kwargs.get("data")))
        return request(method, path, *args, **kwargs)

    monkeypatch.setattr(transport, "api_request", spy)
    batch = stage(raw, ref, [(1, 1, 10), (2, 1, -5), (3, 1, 30), (4, 1, 40)], unparsable=1,
                  held=1)

    staged = zone.load(batch)

    assert staged.rows.rows == 4 and staged.tables["quarantine"].rows == 1
    assert staged.rows.table_id.endswith(f"raw_staging.{ref.source}__orders__{batch.batch_id}")
    assert [(pk, json.loads(r)["total"]) for pk, _, r in rows(zone, staged.rows.table_id)] == [
        (1, 10), (2, -5), (3, 30), (4, 40)]
    created = [data for method, path, data in sent if method == "POST" and path.endswith("/tables")]
    in_staging = [data for data in created if data["tableReference"]["datasetId"] == "raw_staging"]
    assert len(in_staging) == 3  # rows, quarantine, unclassified: each expires by itself
    for data in in_staging:
        expires = datetime.fromtimestamp(int(data["expirationTime"]) / 1000, UTC)
        assert abs(expires - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=5)
    staging = zone.warehouse.client.get_dataset(f"{zone.names.project}.raw_staging")
    assert staging.default_table_expiration_ms == 24 * 3600 * 1000

    published = zone.publish(staged, {2: BAD_TOTAL})

    assert (published.rows_published, published.rows_quarantined,
            published.values_unclassified, published.blocked, published.already) == (
        3, 2, 1, False, False)
    assert totals(zone, zone.names.batches(ref)) == [(1, 10), (3, 30), (4, 40)]
    assert totals(zone, zone.names.current(ref)) == [(1, 10), (3, 30), (4, 40)]
    quarantined = rows(zone, zone.names.quarantine(ref),
                       "_row, _pk, _stage, _rule, _column, _reason, record", "_row")
    assert quarantined == [(2, 2, *BAD_TOTAL, '{"id": 2, "total": -5}'),
                           (5, None, "structural", "record_not_json", None, "not JSON", "{oops")]
    assert rows(zone, zone.names.unclassified(ref), "_row, _pk, field, value", "_row") == [
        (1, 1, "gift_note", '"note 1"')]
    decisions = [data for method, path, data in sent if method == "POST"
                 and path.endswith("/tables") and "decisions" in data["tableReference"]["tableId"]]
    assert len(decisions) == 1 and "expirationTime" in decisions[0]
    assert published.left_behind == ()
    assert all(zone.warehouse.table(table_id) is None for table_id in staged.table_ids)
    assert staging_tables(zone, ref) == []  # the decisions table too
    scripts = [job for job in published.jobs if job.kind == "script"]
    assert len(scripts) == 1 and scripts[0].bytes_processed == 0  # the emulator counts nothing
    assert published.bytes_processed == 0


@pytest.mark.slow
def test_the_current_view_holds_the_newest_version_of_each_key(zone, raw, ref):
    zone.publish(zone.load(stage(raw, ref, [(1, 1, 10), (2, 1, 20), (3, 5, 30)])))
    # Key 2 changed later; key 3's "new" version is older than the published one; key 1 twice
    # with the same time in one batch: the later row wins.
    newer = stage(raw, ref, [(2, 2, 21), (3, 4, 29), (1, 1, 11), (1, 1, 12)])
    zone.publish(zone.load(newer))

    assert totals(zone, zone.names.current(ref)) == [(1, 12), (2, 21), (3, 30)]
    assert len(rows(zone, zone.names.batches(ref))) == 7


@pytest.mark.slow
def test_a_snapshot_tables_current_view_is_its_latest_batch(zone, raw):
    ref = TableRef(f"t{uuid.uuid4().hex[:8]}", "inventory", snapshot=True)
    zone.publish(zone.load(stage(raw, ref, [(1, 1, 10), (2, 1, 20)])))
    zone.publish(zone.load(stage(raw, ref, [(2, 0, 19)])))

    assert totals(zone, zone.names.current(ref)) == [(2, 19)]


@pytest.mark.slow
def test_a_blocked_batch_goes_to_quarantine_whole_and_the_published_table_is_unchanged(
        zone, raw, ref):
    zone.publish(zone.load(stage(raw, ref, [(1, 1, 10), (2, 1, 20)])))
    before = rows(zone, zone.names.batches(ref))
    blocked = stage(raw, ref, [(1, 2, -1), (2, 2, 21), (3, 2, -3)])

    published = zone.publish(zone.load(blocked), {1: BAD_TOTAL}, blocked=BLOCKED)

    assert (published.blocked, published.rows_published, published.rows_quarantined) == (
        True, 0, 3)
    assert rows(zone, zone.names.batches(ref)) == before
    assert totals(zone, zone.names.current(ref)) == [(1, 10), (2, 20)]
    assert rows(zone, zone.names.quarantine(ref), "_pk, _stage, _rule, _column, _reason",
                "_pk") == [(1, *BAD_TOTAL), (2, *BLOCKED), (3, *BLOCKED)]


@pytest.mark.slow
def test_a_statement_failing_inside_the_transaction_rolls_both_inserts_back(
        zone, settings, raw, ref):
    zone.publish(zone.load(stage(raw, ref, [(1, 1, 10)])))
    before = rows(zone, zone.names.batches(ref))
    # The quarantine insert comes after the batches insert, and now cannot fit its table.
    quarantine = sql_id(zone.names.quarantine(ref))
    zone.warehouse.query(f"CREATE OR REPLACE TABLE {quarantine} (_batch_id INT64)", "breaking")
    batch = stage(raw, ref, [(2, 1, 20), (3, 1, -5)])
    staged = zone.load(batch)

    with pytest.raises(BigQueryError) as failed:
        zone.publish(staged, {2: BAD_TOTAL})

    message = str(failed.value)
    assert "\n" not in message
    assert f"publishing batch {batch.batch_id} of {ref.qualified_name}: 400" in message
    assert message.endswith(f"(batch {batch.batch_id} was not published; its staging tables "
                            "are kept until they expire)")
    assert rows(zone, zone.names.batches(ref)) == before
    assert not zone.published(ref, batch.batch_id)
    assert zone.warehouse.table(staged.rows.table_id) is not None

    zone.warehouse.drop_table(zone.names.quarantine(ref))  # repaired: a new process re-creates it
    published = BigQueryZone.connect(settings).publish(staged, {2: BAD_TOTAL})  # _row 2: key 3

    assert (published.rows_published, published.rows_quarantined) == (1, 1)
    assert totals(zone, zone.names.batches(ref)) == [(1, 10), (2, 20)]


@pytest.mark.slow
def test_a_retried_load_or_publish_writes_nothing_twice(zone, raw, ref):
    batch = stage(raw, ref, [(1, 1, 10), (2, 1, 20)], unparsable=1)
    first = zone.load(batch)
    again = zone.load(batch)  # the emulator would load twice on the job id alone

    assert [table.loaded for table in first.tables.values()] == [True, True]
    assert [table.loaded for table in again.tables.values()] == [False, False]
    assert len(rows(zone, first.rows.table_id)) == 2

    published = zone.publish(again, {1: BAD_TOTAL})
    # A crash after the commit but before the staging tables were dropped: the run is retried.
    retried = zone.publish(zone.load(batch), {1: BAD_TOTAL})

    assert (published.already, retried.already) == (False, True)
    assert (retried.rows_published, retried.rows_quarantined) == (1, 2)
    assert totals(zone, zone.names.batches(ref)) == [(2, 20)]
    assert len(rows(zone, zone.names.quarantine(ref), "_pk, _row, record", "_row")) == 2
    assert staging_tables(zone, ref) == []


@pytest.mark.slow
def test_a_load_the_warehouse_refuses_names_the_batch_and_the_first_error(zone, raw, ref,
                                                                         tmp_path):
    batch = stage(raw, ref, [(1, 1, 10)])
    files = StagedFiles.of(batch)
    table = pq.read_table(files.rows)
    wrong = table.set_column(4, "_pk", pa.array(["not a number"], pa.string()))
    broken = tmp_path / "broken.parquet"
    pq.write_table(wrong, broken)

    with pytest.raises(BigQueryError) as failed:
        zone.load(StagedFiles(ref, batch.batch_id, batch.run_id, broken))

    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith(f"loading batch {batch.batch_id} of {ref.qualified_name}: "
                              "the load job ")
    assert message.endswith("Could not convert string 'not a number' to INT64 when casting from "
                            "source column _pk")  # the emulator's words; BigQuery's differ


@pytest.mark.slow
def test_held_parents_and_their_children_leave_the_current_views_until_released(zone, raw):
    source = f"t{uuid.uuid4().hex[:8]}"
    orders = TableRef(source, "orders")
    lines = TableRef(source, "order_products", parents=(("$.order_id", orders),))
    zone.publish(zone.load(stage(raw, orders, [(1, 1, 10), (2, 1, 20)])))
    batch = raw.stage(lines, run_id="run-1")
    for pk, order in ((10, 1), (11, 2)):
        batch.add(pk, T0, json.dumps({"id": pk, "order_id": order}))
    staged = zone.load(batch)

    assert zone.hold_parents(orders, lines, batch.batch_id, {1: ("qty", "line 10")}, {2}) == 2
    assert zone.hold_parents(orders, lines, batch.batch_id, {1: ("qty", "line 10")}, {2}) == 0
    zone.publish(staged, {})

    assert [pk for pk, _, _ in rows(zone, zone.names.current(orders))] == [2]
    assert [pk for pk, _, _ in rows(zone, zone.names.current(lines))] == [11]
    released = raw.stage(lines, run_id="run-2").batch_id
    zone.hold_parents(orders, lines, released, {}, {1})
    assert [pk for pk, _, _ in rows(zone, zone.names.current(orders))] == [1, 2]
    assert [pk for pk, _, _ in rows(zone, zone.names.current(lines))] == [10, 11]


@pytest.mark.slow
def test_a_key_whose_newest_version_is_quarantined_is_named_with_its_rule(zone, raw, ref):
    """Key 2 quarantined in the first batch, key 3 published then quarantined in a later one,
    key 1 quarantined then published again: only 2 and 3 must hold their children."""
    assert zone.newest_quarantined(ref) == {}
    zone.publish(zone.load(stage(raw, ref, [(1, 1, -5), (2, 1, -5), (3, 1, 30)])),
                 {1: BAD_TOTAL, 2: BAD_TOTAL})
    zone.publish(zone.load(stage(raw, ref, [(1, 2, 10), (3, 2, -5)])), {2: BAD_TOTAL})

    reason = "its newest version is quarantined (total_non_negative)"
    assert zone.newest_quarantined(ref) == {2: reason, 3: reason}


@pytest.mark.slow
def test_a_dataset_in_another_location_stops_the_run_naming_the_setting(zone, ref):
    from google.cloud import bigquery

    dataset = bigquery.Dataset(zone.names.raw_dataset(ref))
    dataset.location = "US"
    zone.warehouse.client.create_dataset(dataset)

    with pytest.raises(BigQueryError) as failed:
        zone.prepare([ref])

    assert str(failed.value) == (
        f"dataset {zone.names.raw_dataset(ref)} is in US, but the location setting is "
        "asia-northeast3 (the dbt prod target's too): move the dataset or change the setting")


# Settings and credentials: each mistake is one line naming the variable or the setting.

def connect_error(env: dict[str, str], **settings) -> str:
    with pytest.raises(BigQueryError) as failed:
        BigQueryZone.connect(BigQuerySettings.from_env(env, **settings), env=env)
    message = str(failed.value)
    assert "\n" not in message
    return message


def test_no_credentials_names_the_variable():
    assert connect_error({"GCP_PROJECT": "shop-prod"}) == (
        "GCP_SERVICE_ACCOUNT_KEY is not set: give the path of a service-account key file or the "
        "key's JSON (or set BIGQUERY_EMULATOR_HOST to use a local emulator)")


def test_a_key_that_is_neither_a_file_nor_json_names_the_variable_but_never_the_secret(
        tmp_path):
    missing = tmp_path / "keys" / "sa.json"
    assert connect_error({"GCP_SERVICE_ACCOUNT_KEY": str(missing)}) == (
        "GCP_SERVICE_ACCOUNT_KEY is neither a readable file nor a service-account key's JSON "
        f"(no file at '{missing}')")
    secret = "c2VjcmV0LWtleS1tYXRlcmlhbA" * 4
    message = connect_error({"GCP_SERVICE_ACCOUNT_KEY": secret})
    assert secret[:8] not in message and f"a value of {len(secret)} characters" in message
    assert connect_error({"GCP_SERVICE_ACCOUNT_KEY": '{"type": "service_account",'}) == (
        "GCP_SERVICE_ACCOUNT_KEY looks like JSON but is not JSON (line 1, column 28)")
    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    assert connect_error({"GCP_SERVICE_ACCOUNT_KEY": str(broken)}) == (
        f"GCP_SERVICE_ACCOUNT_KEY={broken}: the file is not JSON (line 1, column 1)")
    message = connect_error({"GCP_SERVICE_ACCOUNT_KEY": '{"type": "service_account"}'})
    assert message.startswith("GCP_SERVICE_ACCOUNT_KEY is not a usable service-account key (")


def test_a_key_as_a_path_or_as_json_gives_its_credentials_and_project(tmp_path):
    key = throwaway_key("shop-prod", real_rsa=True)
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(key))

    for value in (str(path), json.dumps(key)):
        env = {"GCP_SERVICE_ACCOUNT_KEY": value}
        client, resolved = make_client(BigQuerySettings.from_env(env), env)
        assert (client.project, client.location, resolved.project) == (
            "shop-prod", "asia-northeast3", "shop-prod")
        assert client._credentials.service_account_email == key["client_email"]
    env = {"GCP_SERVICE_ACCOUNT_KEY": str(path), "GCP_PROJECT": "other"}
    assert make_client(BigQuerySettings.from_env(env), env)[0].project == "other"


def test_a_server_that_is_not_there_fails_in_seconds_naming_the_variable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    message = connect_error({"BIGQUERY_EMULATOR_HOST": f"http://127.0.0.1:{port}",
                             "GOOGLE_CLOUD_PROJECT": "local-project"}, timeout_s=3.0)

    assert time.monotonic() - started < 15
    assert message.startswith(f"BigQuery project 'local-project' (GOOGLE_CLOUD_PROJECT): the "
                              f"emulator at http://127.0.0.1:{port} (BIGQUERY_EMULATOR_HOST) did "
                              "not answer")


class _NoSuchProject(BaseHTTPRequestHandler):
    """Answers as BigQuery does for a project that does not exist (the emulator serves any)."""

    def do_GET(self):
        body = json.dumps({"error": {"code": 404, "message": "Not found: Project shop-prd",
                                     "errors": [{"message": "Not found: Project shop-prd",
                                                 "domain": "global", "reason": "notFound"}],
                                     "status": "NOT_FOUND"}}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


def test_a_wrong_project_stops_in_one_line_naming_the_variable():
    server = HTTPServer(("127.0.0.1", 0), _NoSuchProject)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        message = connect_error({"BIGQUERY_EMULATOR_HOST": f"http://127.0.0.1:{server.server_port}",
                                 "GCP_PROJECT": "shop-prd"})
    finally:
        server.shutdown()

    assert message == ("BigQuery project 'shop-prd' (GCP_PROJECT): 404 Not found: Project "
                       "shop-prd: is GCP_PROJECT the right project, and may the credentials use "
                       "it?")
