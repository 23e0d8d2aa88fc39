"""The extraction assets with their raw zone in BigQuery (the emulator): write, audit, publish.

Dagster runs the real assets over the sandbox APIs with `RawZoneResource(bigquery_project=...)`:
each batch is staged locally, loaded into its staging table, audited there, and published with
its quarantine in one transaction. Asserted through BigQuery's own tables: every source record
is in the current view once, a faulty record is in the quarantine with the rule it broke, a
blocked batch leaves the published table exactly as it was, and no staging or audit table is
left behind.
"""

from __future__ import annotations

import dagster as dg
import pytest

from assets import EXTRACTION_ASSETS
from resources.raw_zone import RawZoneResource
from sandbox.bigcommerce.server import running_sandbox
from sandbox.bigquery.emulator import client, start
from tests.assets.support import expected_counts, extraction_resources, sandbox_config, zone_ref

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with start(tmp_path_factory.mktemp("extraction_bigquery")) as started:
        yield started


def _resources(api, wise_postgres, data_dir, emulator) -> dict:
    resources = extraction_resources(api, wise_postgres, data_dir)
    resources["raw_zone"] = RawZoneResource(
        root=str(data_dir / "raw"), warehouse=str(data_dir / "unused.duckdb"),
        bigquery_project=emulator.project, bigquery_emulator_host=emulator.endpoint)
    return resources


def _materialize(resources: dict, names: set[str] | None = None) -> dg.ExecuteInProcessResult:
    """A full refresh: the tests share one emulator, whose watermarks would narrow the window."""
    assets = [a for a in EXTRACTION_ASSETS if names is None or a.key.to_user_string() in names]
    config = {"ops": {a.key.to_python_identifier(): {"config": {"full_refresh": True}}
                      for a in assets}}
    return dg.materialize(assets, resources=resources, run_config=config, raise_on_error=False)


def _counts(bq, project: str, names: set[str]) -> dict[str, tuple[int, int]]:
    counts = {}
    for name in names:
        ref = zone_ref(name)
        row = next(iter(bq.query(
            f"SELECT count(*), count(DISTINCT _pk) FROM `{project}.{ref.schema}.{ref.table}`"
        ).result()))
        counts[name] = tuple(row.values())
    return counts


def test_every_extraction_publishes_every_record_into_bigquery(tmp_path, wise_postgres,
                                                               emulator):
    with running_sandbox(sandbox_config()) as api:
        resources = _resources(api, wise_postgres, tmp_path, emulator)
        result = _materialize(resources)
        expected = expected_counts(api.dataset, wise_postgres)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    bq = client(emulator)
    assert _counts(bq, emulator.project, set(expected)) == expected
    for evaluation in result.get_asset_check_evaluations():
        assert evaluation.passed or evaluation.severity == dg.AssetCheckSeverity.WARN, \
            (evaluation.asset_key, evaluation.check_name, evaluation.description)
    leftovers = [t.table_id for t in bq.list_tables("raw_staging")]
    assert not leftovers, leftovers


def test_bad_rows_are_quarantined_in_bigquery_and_a_blocked_batch_changes_nothing(
        tmp_path, wise_postgres, emulator):
    bq = client(emulator)
    orders = zone_ref("src_order")
    current = f"`{emulator.project}.{orders.schema}.{orders.table}`"
    quarantine = f"`{emulator.project}.{orders.quarantine_view}`"
    email = {"endpoint": "customers", "kind": "malformed_email", "fraction": 0.05}
    with running_sandbox(sandbox_config([email])) as api:
        resources = _resources(api, wise_postgres, tmp_path / "first", emulator)
        result = _materialize(resources, {"src_customer", "src_order"})
    assert result.success
    customers = zone_ref("src_customer")
    rules = {tuple(r.values()) for r in bq.query(
        f"SELECT _stage, _rule, _column FROM `{emulator.project}.{customers.quarantine_view}`"
    ).result()}
    assert {(stage, column) for stage, _, column in rules} == {("schema_contract", "email")}, \
        rules
    before = sorted(tuple(r.values()) for r in bq.query(
        f"SELECT _pk, _batch_id FROM {current}").result())

    retyped = {"endpoint": "orders", "kind": "retype_column", "column": "customer_id",
               "to": "string"}
    with running_sandbox(sandbox_config([retyped])) as api:
        resources = _resources(api, wise_postgres, tmp_path / "second", emulator)
        blocked = _materialize(resources, {"src_order"})
        total = len(api.dataset.orders)
    assert not blocked.success
    after = sorted(tuple(r.values()) for r in bq.query(
        f"SELECT _pk, _batch_id FROM {current}").result())
    assert after == before  # the blocked batch published nothing
    newest = next(iter(bq.query(
        f"SELECT count(*), countif(_rule = 'dtype') FROM {quarantine} WHERE _batch_id = "
        f"(SELECT max(_batch_id) FROM {quarantine})").result()))
    assert tuple(newest.values()) == (total, total)
