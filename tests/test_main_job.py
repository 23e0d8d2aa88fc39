"""The README's main command, minus the venv bootstrap: `python -m cli main`, end to end.

It starts the sandbox API and the embedded PostgreSQL, runs `etl_pipeline` through a Dagster
instance in the data folder, prints the per-table summary, and must never write the API token
anywhere: not in the output, the instance's event log, the engine log or the sandbox's log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from assets import EXTRACTION_ASSETS
from resources.environment import REPO_ROOT
from sandbox.bigcommerce.data import Dataset, DatasetSize

pytestmark = pytest.mark.slow

FLAKY = REPO_ROOT / "sandbox" / "fault_plans" / "flaky_network.toml"
BAD_EMAILS = REPO_ROOT / "sandbox" / "fault_plans" / "bad_customer_emails.toml"


def run_main(data_dir: Path, token: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOV_DATA_DIR": str(data_dir), "SANDBOX_ACCESS_TOKEN": token}
    command = [sys.executable, "-m", "cli", "main", "--size", "40", "--window-ms", "1000", *extra]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    return [path for path in folder.rglob("*")
            if path.is_file() and "pg" not in path.relative_to(folder).parts[:2]
            and needle in path.read_bytes()]


def personal_data(size: int) -> list[str]:
    """E-mails, phones, names and street lines the sandbox serves at this size (seed 42)."""
    data = Dataset.generate(42, DatasetSize.scaled(size), datetime.now(UTC))
    values = []
    for customer in data.customers:
        values += [customer["email"], customer["phone"], customer["first_name"] +
                   customer["last_name"], customer["last_name"] + customer["first_name"]]
        values += [address["address1"] for address in customer["addresses"]]
    return [value for value in values if len(value) >= 2]


def test_main_job_runs_everything_reports_and_keeps_its_runs(tmp_path):
    """Two runs, over a flaky network and then with malformed e-mails: both succeed, both are
    in the instance, the quarantine is alerted, and neither the token nor any personal data
    appears in the output, the instance (check metadata, logs) or the alert outbox."""
    data_dir = tmp_path / "data"
    token = f"sandbox-secret-{uuid.uuid4().hex}"
    first = run_main(data_dir, token, "--fault-plan", str(FLAKY))
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_main(data_dir, token, "--fault-plan", str(BAD_EMAILS), "--full-refresh")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "alert(s) sent" in second.stdout
    rows = {line.split()[0]: line.split() for line in second.stdout.splitlines() if line.strip()}
    assert int(rows["src_customer"][2]) > 0  # quarantined (under the limit: a WARN)...
    assert "mart_customer_value" in rows  # ...and dbt still built everything downstream
    outbox = (data_dir / "alerts" / "outbox.jsonl").read_text()
    assert '"kind": "rows_quarantined"' in outbox and "team:crm" in outbox

    summary = first.stdout.split("asset ", 1)[1]
    for asset in EXTRACTION_ASSETS:
        assert asset.key.to_user_string() in summary
    assert "SUCCESS" in first.stdout and "progress" not in first.stderr

    with dg.DagsterInstance.from_config(str(data_dir / "dagster")) as instance:
        runs = instance.get_runs()
        assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
        assert all(run.job_name == "etl_pipeline" for run in runs)
        materialized = {
            key.to_user_string()
            for key in instance.get_asset_keys()
            if instance.get_latest_materialization_event(key) is not None
        }
    assert {a.key.to_user_string() for a in EXTRACTION_ASSETS} <= materialized
    assert {"fct_order", "mart_customer_value", "op_product_notification_event"} <= materialized

    # Each Dagster run is a lineage job of its own, START then COMPLETE at the run's own times,
    # the parent every step's events name (else Marquez shows the parent RUNNING forever).
    events = [json.loads(line) for line in
              (data_dir / "lineage" / "events.jsonl").read_text().splitlines()]
    for run in runs:
        own = [e for e in events if e["run"]["runId"] == run.run_id]
        assert [(e["eventType"], e["job"]["name"]) for e in own] == [
            ("START", "etl_pipeline"), ("COMPLETE", "etl_pipeline")]
        children = [e for e in events
                    if e["run"]["facets"].get("parent", {}).get("run", {}).get("runId")
                    == run.run_id]
        assert len({e["job"]["name"] for e in children}) > 20
        times = sorted(datetime.fromisoformat(e["eventTime"]) for e in children)
        assert datetime.fromisoformat(own[0]["eventTime"]) <= times[0]
        assert datetime.fromisoformat(own[1]["eventTime"]) >= times[-1]

    for output in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert token not in output
    assert files_containing(data_dir, token.encode()) == []

    shown = [first.stdout, first.stderr, second.stdout, second.stderr, outbox]
    shown += [path.read_bytes().decode("utf-8", "replace")
              for path in (data_dir / "dagster").rglob("*") if path.is_file()]
    text = "\n".join(shown)
    for value in personal_data(40):
        escaped = json.dumps(value)[1:-1]  # as it would sit in JSON written with ensure_ascii
        assert value not in text and escaped not in text, f"personal data shown: {value!r}"
