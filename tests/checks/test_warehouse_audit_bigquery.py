"""The audit on BigQuery (the emulator) judges exactly as the in-memory audit does.

The scenarios of `test_warehouse_audit.py`, with the staged batch loaded into a BigQuery
staging table by a load job and audited there (`checks.warehouse.bigquery_scratch`): the same
verdict, findings, rows moved, null counts and check results as the in-memory oracle. The
emulator runs DuckDB underneath, so this proves the SQL is BigQuery's and the wiring works, not
BigQuery's semantics (docs/bigquery.md says what it cannot prove).
"""

from __future__ import annotations

import pytest
from google.cloud import bigquery

from checks.audit import Staging, audit_batch
from checks.judges import on_bigquery
from checks.warehouse.bigquery_scratch import BigQueryScratch
from resources.raw_zone import RawZone
from sandbox.bigquery.emulator import client, start
from sandbox.raw_zone_fill import SPECS, stage_records
from tests.checks.test_warehouse_audit import (
    SCENARIOS,
    _audited,
    _checks,
    _findings,
    _records,
    dataset,  # noqa: F401  (the module's fixture)
)

pytestmark = pytest.mark.slow
DATASET = "raw_staging"
# One scenario per path through the SQL (GX on the emulator takes ~25 s a batch): a pass, a
# mistyped value, Pandera and GX row rules with a dataframe check, RFC-2822 and empty dates,
# a blocked batch, a missing column, a regex warning, lifted keys.
ON_BIGQUERY = ["clean orders", "an id sent as a string", "a negative total and a bad status name",
               "an unparseable date and an empty one", "too many bad rows",
               "a column missing everywhere", "a phone in another format",
               "inventory with lifted keys"]
SCHEMA = [bigquery.SchemaField("_batch_id", "STRING"), bigquery.SchemaField("_row", "INT64"),
          bigquery.SchemaField("_run_id", "STRING"),
          bigquery.SchemaField("_extracted_at", "TIMESTAMP"),
          bigquery.SchemaField("_pk", "INT64"), bigquery.SchemaField("_modified_at", "TIMESTAMP"),
          bigquery.SchemaField("record", "STRING")]


@pytest.fixture(scope="module")
def bq(tmp_path_factory):
    with start(tmp_path_factory.mktemp("audit_bigquery")) as emulator:
        bq_client = client(emulator)
        bq_client.create_dataset(DATASET, exists_ok=True)
        yield bq_client


def _on_bigquery(tmp_path, bq_client, asset: str, records: list[dict]):
    zone = RawZone(tmp_path / "bq" / "raw", tmp_path / "bq" / "w.duckdb")
    batch = stage_records(zone, asset, records, run_id="run-bigquery")
    table = f"{bq_client.project}.{DATASET}.staged_{batch.batch_id}"
    with open(batch.seal_rows(), "rb") as staged:
        bq_client.load_table_from_file(staged, table, job_config=bigquery.LoadJobConfig(
            source_format="PARQUET", schema=SCHEMA)).result()
    scratch = BigQueryScratch(bq_client, table, DATASET, batch.batch_id)
    audit = audit_batch(SPECS[asset].contract, batch, SPECS[asset].key, Staging(),
                        judge=on_bigquery(scratch))
    batch.seal()
    return audit, scratch, batch.rows


@pytest.mark.parametrize("scenario", ON_BIGQUERY)
def test_the_bigquery_audit_judges_as_the_in_memory_audit(tmp_path, dataset, bq,  # noqa: F811
                                                         scenario):
    asset, fault = SCENARIOS[scenario]
    records = _records(dataset, asset)
    if fault is not None:
        fault(records)
    memory, _, memory_left = _audited(tmp_path, "memory", asset, records, "memory")
    sql, scratch, sql_left = _on_bigquery(tmp_path, bq, asset, records)
    assert (sql.verdict.outcome, sql.verdict.summary) == \
        (memory.verdict.outcome, memory.verdict.summary)
    assert _findings(sql) == _findings(memory)
    assert sql.quarantined_by_rule == memory.quarantined_by_rule
    assert sql_left == memory_left
    assert sql.null_counts == memory.null_counts
    assert _checks(sql) == _checks(memory)
    # The audit's own relations are gone; the staged batch is the zone's to drop.
    names = {t.table_id for t in bq.list_tables(DATASET)}
    assert not {n for n in names if n.startswith("audit_")}
    assert scratch.bytes_processed >= 0
