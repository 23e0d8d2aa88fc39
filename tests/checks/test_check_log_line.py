"""A failed check is one line in the run's log, at ERROR when it blocked the batch and WARNING
otherwise, naming asset, check, rows failing and owner: the very line its alert opens with.

Real extractions against the sandbox API, run by Dagster on a test instance; the lines are read
back from that instance's event log, and the alert is built from the same run.
"""

from __future__ import annotations

import logging

import dagster as dg
import pytest

from assets import EXTRACTION_ASSETS
from automation.alerting import check_alerts
from checks.report import FAILURE_TITLES
from resources.bigcommerce import BigCommerceResource
from resources.lineage import LineageResource
from resources.raw_zone import RawZoneResource
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import sandbox_config

pytestmark = pytest.mark.slow
OWNER = "team:crm <crm-data@commerce.example>"


def _resources(api, data_dir) -> dict:
    return {
        "bigcommerce": BigCommerceResource(store_hash=api.store_hash,
                                           access_token=api.access_token, base_url=api.base_url),
        "raw_zone": RawZoneResource(root=str(data_dir / "raw"),
                                    warehouse=str(data_dir / "warehouse.duckdb")),
        "lineage": LineageResource(file_path=str(data_dir / "lineage.jsonl")),
    }


def _headlines(instance: dg.DagsterInstance, run_id: str) -> list[tuple[int, str]]:
    """(level, text) of every line our code logged that announces a failed check."""
    return [(entry.level, entry.user_message) for entry in instance.all_logs(run_id)
            if entry.dagster_event is None
            and entry.user_message.startswith(tuple(FAILURE_TITLES.values()))]


@pytest.mark.parametrize(("fault", "level", "title"), [
    ({"endpoint": "customers", "kind": "malformed_email", "fraction": 0.03}, logging.WARNING,
     "Rows quarantined"),
    ({"endpoint": "customers", "kind": "drop_column", "column": "phone"}, logging.ERROR,
     "Batch blocked by a check"),
])
def test_a_failed_check_logs_the_line_its_alert_opens_with(tmp_path, fault, level, title):
    asset = next(a for a in EXTRACTION_ASSETS if a.key.to_user_string() == "src_customer")
    sandbox = running_sandbox(sandbox_config([fault], seed=5))
    with dg.instance_for_test() as instance, sandbox as api:
        result = dg.materialize([asset], resources=_resources(api, tmp_path), instance=instance,
                                raise_on_error=False)
        failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
        logged = _headlines(instance, result.run_id)
        (alert,) = check_alerts(instance, instance.get_run_by_id(result.run_id),
                                webserver_url="http://dagster.test")
    assert failed and len(logged) == len(failed), logged  # one line per failed check
    schema = next(e for e in failed if e.check_name == "schema_contract")
    rows = schema.metadata["rows_failing"].value
    rows_failing = f"{rows:,} row" + ("" if rows == 1 else "s") + " failing"
    line = f"{title}: src_customer · schema_contract: {rows_failing} · owner {OWNER}"
    assert (level, line) in logged
    assert all(found_level in (logging.WARNING, logging.ERROR) for found_level, _ in logged)
    opening = alert.text.splitlines()[: len(logged)]
    assert sorted(opening) == sorted(text for _, text in logged)
    assert alert.text.splitlines()[0] == line  # the blocking check, if any, comes first
