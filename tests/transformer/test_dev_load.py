"""`dagster dev` (what `python3 run.py ui` starts) loads the dbt project with nothing on PATH but
the system's: its re-parse uses the venv's dbt, not one looked up on PATH (a fresh clone has
none there; dagster-dbt's own `prepare_if_dev()` failed with "The dbt executable 'dbt' was not
found on PATH" and the UI showed the extraction assets as external, without checks)."""

from __future__ import annotations

import os
import subprocess
import sys

from resources.environment import REPO_ROOT
from resources.transformer import TRANSFORMER_DIR

LOAD = ("from resources.transformer import transformer_project; "
        "project = transformer_project(); print(project.manifest_path.stat().st_mtime)")


def test_dagster_dev_parses_the_project_with_the_venvs_dbt_and_a_bare_path():
    os.utime(TRANSFORMER_DIR / "dbt_project.yml")  # the manifest is stale: dev must re-parse
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin",
           "DAGSTER_IS_DEV_CLI": "1"}
    done = subprocess.run([sys.executable, "-c", LOAD], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    parsed_at = float(done.stdout.strip().splitlines()[-1])
    assert parsed_at >= (TRANSFORMER_DIR / "dbt_project.yml").stat().st_mtime
