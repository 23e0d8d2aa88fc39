"""bqemulator as our google-cloud-bigquery client sees it: loads, queries, transactions, job ids,
and a start that fails says why in one line naming the log.

One emulator serves the module (the first run builds `.venv-bqemulator`, about a minute).
"""

from __future__ import annotations

import io
import re
import socket
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.api_core.exceptions import BadRequest
from google.api_core.retry import Retry
from google.cloud import bigquery

from sandbox.bigquery import EmulatorError, client, running, start

# With no server the client retries for 600 s by default; a test must fail fast instead.
RETRY = Retry(timeout=30)
SCHEMA = [
    bigquery.SchemaField("id", "INT64", mode="REQUIRED"),
    bigquery.SchemaField("name", "STRING"),
    bigquery.SchemaField("amount", "FLOAT64"),
]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with start(tmp_path_factory.mktemp("bqemulator")) as started:
        yield started


@pytest.fixture(scope="module")
def bq(emulator):
    bq = client(emulator)
    bq.create_dataset("raw", retry=RETRY)
    return bq


def _parquet() -> io.BytesIO:
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "name": ["ada", "bob", None],
            "amount": [1.5, 2.25, 0.0],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    return buffer


def _load(bq: bigquery.Client, table: str, job_id: str) -> bigquery.LoadJob:
    # The schema is explicit: the emulator does not infer one from Parquet.
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        schema=SCHEMA,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
    )
    job = bq.load_table_from_file(_parquet(), table, job_config=config, job_id=job_id)
    job.result(retry=RETRY, timeout=60)
    return job


def _rows(bq: bigquery.Client, sql: str) -> list[tuple]:
    return [tuple(row.values()) for row in bq.query(sql, retry=RETRY).result(timeout=60)]


@pytest.mark.slow
def test_a_parquet_load_with_an_explicit_schema_reads_back_exactly(bq):
    job = _load(bq, "raw.customers", job_id="load-customers-1")

    assert job.state == "DONE" and job.errors is None
    assert bq.get_table("raw.customers", retry=RETRY).schema == SCHEMA
    assert _rows(bq, "SELECT id, name, amount FROM raw.customers ORDER BY id") == [
        (1, "ada", 1.5),
        (2, "bob", 2.25),
        (3, None, 0.0),
    ]


@pytest.mark.slow
def test_a_failed_multi_statement_transaction_leaves_the_table_unchanged(bq):
    _load(bq, "raw.orders", job_id="load-orders-1")
    script = """
        BEGIN TRANSACTION;
        INSERT INTO raw.orders (id, name, amount) VALUES (4, 'eve', 9.0);
        DELETE FROM raw.orders WHERE id = 1;
        SELECT ERROR('the batch is refused');
        COMMIT TRANSACTION;
    """
    with pytest.raises(BadRequest, match="the batch is refused"):
        bq.query(script, retry=RETRY).result(timeout=60)

    assert _rows(bq, "SELECT id FROM raw.orders ORDER BY id") == [(1,), (2,), (3,)]


@pytest.mark.slow
def test_the_emulator_ignores_a_load_jobs_id_so_a_repeat_loads_twice(bq):
    """Real BigQuery answers a repeated job id with 409 Conflict and loads once. bqemulator 1.4.0
    names every upload job itself (`bqemu_<hex>`) and runs it again: idempotency of our loads
    cannot be proven on it (docs/bigquery.md). Should this fail, the emulator changed: the docs
    then say too little."""
    first = _load(bq, "raw.products", job_id="load-products-1")
    second = _load(bq, "raw.products", job_id="load-products-1")

    assert first.job_id != "load-products-1" and first.job_id.startswith("bqemu_")
    assert second.job_id != first.job_id
    assert _rows(bq, "SELECT id, COUNT(*) FROM raw.products GROUP BY id ORDER BY id") == [
        (1, 2),
        (2, 2),
        (3, 2),
    ]


@pytest.mark.slow
def test_running_finds_the_started_emulator_by_its_folder(emulator):
    found = running(emulator.folder)

    assert found is not None and (found.pid, found.port) == (emulator.pid, emulator.port)
    assert found.env == {
        "BIGQUERY_EMULATOR_HOST": emulator.endpoint,
        "GOOGLE_CLOUD_PROJECT": emulator.project,
    }


@pytest.mark.slow
def test_a_port_already_taken_fails_in_one_line_naming_the_reason_and_the_log(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EmulatorError) as failed:
            start(tmp_path, port=port, timeout_s=90)

    message = str(failed.value)
    assert "\n" not in message
    assert f"exited with code 3 before answering on http://127.0.0.1:{port}" in message
    assert "address already in use" in message
    assert message.endswith(f"its log: {tmp_path.resolve() / 'bqemulator.log'}")
    assert running(tmp_path) is None


def test_a_broken_emulator_interpreter_fails_in_one_line_naming_the_log(tmp_path):
    broken = tmp_path / "venv" / "bin" / "python"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named bqemulator' >&2\n"
                      "exit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)

    with pytest.raises(EmulatorError) as failed:
        start(tmp_path / "data", python=broken, timeout_s=30)

    log = (tmp_path / "data" / "bqemulator.log").resolve()
    assert re.fullmatch(
        r"bqemulator exited with code 1 before answering on http://127\.0\.0\.1:\d+ "
        r"\(ModuleNotFoundError: No module named bqemulator\); its log: " + re.escape(str(log)),
        str(failed.value),
    )
