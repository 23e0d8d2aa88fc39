"""What loading the code location, and running a command that needs none of it, imports.

Not timed (a busy machine would make it flaky); instead each case runs in a fresh interpreter
and names the libraries it must not have imported: the ones a step loads only when it uses them
(Great Expectations for an audit, the BigQuery client for a BigQuery target, dagster-dbt and
dbt-core for `dbt build`: about 2 s; `benchmarks/load.py` has the figures). The models' specs
come from the file kept beside the manifest (`assets.transformer.specs`); only a load that finds
it stale pays dagster-dbt, once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from resources.environment import REPO_ROOT

# Imported by the step that uses them, never by loading the code location.
STEP_ONLY = (
    "great_expectations", "sqlalchemy", "google.cloud.bigquery",
    "dbt.cli.main", "dbt.parser.manifest", "dbt.context.providers", "dbt.config.runtime",
    "dbt.adapters.duckdb", "dbt.adapters.bigquery",
)
# Imported where a step sends, connects or posts (docs/architecture.md, "What loading imports").
CONNECTIONS = ("openlineage", "aiohttp", "requests", "psycopg", "slack_sdk", "duckdb")
# Every dbt import goes through one of these: dagster-dbt imports dbt-core when installed.
DBT = ("dagster_dbt", "dbt", "dbt_common")
LOAD = "import definitions\ndefinitions.defs()"
# Commands that never load the code location, as `python3 run.py <argv>` runs them.
LIGHT_COMMANDS = (
    ["bqemulator", "status"],
    ["sandbox", "status"],
    ["marquez", "status"],
    ["contracts", "--check"],
    ["lineage", "src_order", "--file", "{data}/no-events.jsonl"],
)


def _imported(code: str, watched: tuple[str, ...], data_dir: str) -> list[str]:
    """Run `code` in a fresh interpreter; which of `watched` it left in `sys.modules`."""
    report = f"\nprint(json.dumps([m for m in {watched!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys\n" + code + report], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "GOV_DATA_DIR": data_dir},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_loading_the_code_location_imports_no_step_only_library(tmp_path):
    _imported(LOAD, (), str(tmp_path))  # the first load may (re)build the kept specs
    assert _imported(LOAD, DBT + STEP_ONLY + CONNECTIONS, str(tmp_path)) == []


@pytest.mark.parametrize("argv", LIGHT_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_a_command_without_the_code_location_imports_no_dbt(argv, tmp_path):
    argv = [arg.format(data=tmp_path) for arg in argv]
    # The command's exit code is its own business (no lineage file is an error): only what it
    # imported on the way is checked.
    code = ("from cli.__main__ import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass")
    assert _imported(code, DBT + STEP_ONLY, str(tmp_path)) == []


def test_the_check_sees_a_library_the_code_location_imports(tmp_path):
    """The probe itself, on what the code location cannot do without."""
    assert _imported(LOAD, ("dagster", "pandera"), str(tmp_path)) == ["dagster", "pandera"]
