"""The README's main command, minus the venv bootstrap: `python -m cli main`, end to end.

It starts the sandbox API and the embedded PostgreSQL, runs `etl_pipeline` through a Dagster
instance in the data folder, prints the per-table summary, and must never write the API token
anywhere: not in the output, the instance's event log, the engine log or the sandbox's log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest

from assets import EXTRACTION_ASSETS
from resources.environment import REPO_ROOT

pytestmark = pytest.mark.slow

FLAKY = REPO_ROOT / "sandbox" / "fault_plans" / "flaky_network.toml"


def run_main(data_dir: Path, token: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOV_DATA_DIR": str(data_dir), "SANDBOX_ACCESS_TOKEN": token}
    command = [sys.executable, "-m", "cli", "main", "--size", "40", "--window-ms", "1000", *extra]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    return [path for path in folder.rglob("*")
            if path.is_file() and "pg" not in path.relative_to(folder).parts[:2]
            and needle in path.read_bytes()]


def test_main_job_runs_everything_reports_and_keeps_its_runs(tmp_path):
    """Two runs over a flaky network: both succeed, both are in the instance, no token leaks."""
    data_dir = tmp_path / "data"
    token = f"sandbox-secret-{uuid.uuid4().hex}"
    first = run_main(data_dir, token, "--fault-plan", str(FLAKY))
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_main(data_dir, token)
    assert second.returncode == 0, second.stdout + second.stderr

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

    for output in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert token not in output
    assert files_containing(data_dir, token.encode()) == []
