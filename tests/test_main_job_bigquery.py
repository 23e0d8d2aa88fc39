"""`python -m cli main --warehouse bigquery-emulator`: the whole main job on BigQuery's API.

The command starts the emulator in the data folder, runs every extraction (loaded, audited and
published in BigQuery), `dbt build --target prod` against it, and the notifications, then
stops it. The emulator keeps its data in that folder, so the test starts it again there and
reads what the run left, through BigQuery's API: every raw table, the models, and nothing
published locally.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from resources.environment import REPO_ROOT
from sandbox.bigquery.emulator import client, start

pytestmark = pytest.mark.slow
SIZE = 40


def test_the_main_job_runs_end_to_end_on_the_bigquery_emulator(tmp_path):
    data_dir = tmp_path / "data"
    token = f"sandbox-secret-{uuid.uuid4().hex}"
    env = {**os.environ, "GOV_DATA_DIR": str(data_dir), "SANDBOX_ACCESS_TOKEN": token}
    command = [sys.executable, "-m", "cli", "main", "--warehouse", "bigquery-emulator",
               "--size", str(SIZE), "--window-ms", "1000"]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=1500)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "BigQuery emulator at http://127.0.0.1:" in done.stdout
    assert ": SUCCESS;" in done.stdout
    assert token not in output
    # Batches were only staged locally: nothing was published to the local raw zone.
    assert not (data_dir / "raw" / "published").exists()

    with start(data_dir / "sandbox" / "bigquery") as emulator:
        bq = client(emulator)

        def count(table: str) -> int:
            return next(iter(bq.query(f"SELECT count(*) FROM `{emulator.project}.{table}`")
                             .result()))[0]

        assert count("raw_bigcommerce.customers") == SIZE
        assert count("raw_bigcommerce.orders") == 2 * SIZE
        assert count("raw_wise.quotations") > 0
        assert count("analytics.dim_customer") == SIZE
        assert count("analytics.fct_order") == 2 * SIZE
        assert count("analytics.mart_complete_purchase_order") > 0
        leftovers = [t.table_id for t in bq.list_tables("raw_staging")]
        assert not leftovers, leftovers
