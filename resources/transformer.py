"""The dbt project in `transformer/` as Dagster sees it, and how its manifest is kept current.

`DbtProject.prepare_if_dev()` only parses under `dagster dev`; the main job, CI and the tests
call `prepare_manifest()` instead (a `dbt parse`, about 4 s, skipped when nothing changed).
Under `dagster dev` the project is prepared by the same `prepare_manifest()`: dagster-dbt's
`prepare_if_dev()` would run a `dbt` looked up on PATH, and a fresh clone has none there (the
venv's dbt is found beside its Python). Loading the definitions without a manifest stops with
one line that says how to build it.

dagster-dbt is imported only where a `DbtProject` is built: importing it loads dbt-core too
(about 2 s), which `prepare`, `contracts` and the other commands that only need the paths or
`dbt parse` must not pay.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from resources.environment import REPO_ROOT, warehouse

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

TRANSFORMER_DIR = REPO_ROOT / "transformer"
# What `dbt parse` reads: a change to any of these makes the manifest stale.
PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "data-tests")


class TransformerSetupError(RuntimeError):
    """The dbt project cannot be used as it is; the message says how to fix it."""


def dbt_executable() -> str:
    """The dbt installed beside this Python (the venv's), whatever PATH says."""
    return str(Path(sys.executable).with_name("dbt"))


DUCKDB_MEMORY_LIMIT = "850MB"  # profiles.yml's default too (tests/transformer check both)


def duckdb_memory_limit() -> str:
    """DuckDB's `memory_limit` for the local warehouse, in dbt (profiles.yml reads the same
    variable) and on the step's own connection that reads the warehouse back after the build
    (uncapped, that read once took the step process to 1.9 GB at 1M orders)."""
    return os.environ.get("GOV_DBT_MEMORY_LIMIT", "").strip() or DUCKDB_MEMORY_LIMIT


def dbt_target() -> str:
    """`prod` (BigQuery, or its emulator: profiles.yml reads which) unless on DuckDB."""
    return "local" if warehouse() == "duckdb" else "prod"


@cache
def transformer_project() -> DbtProject:
    from dagster_dbt import DbtProject

    project = DbtProject(
        project_dir=TRANSFORMER_DIR, profiles_dir=TRANSFORMER_DIR, target=dbt_target()
    )
    if project.preparer.using_dagster_dev():  # `prepare_if_dev()`, with the venv's dbt
        prepare_manifest(Path(project.project_dir))
    return project


def _manifest_file(project_dir: Path) -> Path:
    """Where `dbt parse` writes the manifest (dbt's default target path)."""
    return project_dir / "target" / "manifest.json"


def _newest_input(project_dir: Path) -> float:
    stamps = [0.0]
    for name in PROJECT_INPUTS:
        path = project_dir / name
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        stamps += [f.stat().st_mtime for f in files if f.is_file()]
    return max(stamps)


def manifest_path(project: DbtProject | None = None) -> Path:
    """The manifest, or a clear error when it was never built.

    Without a project it is `transformer/`'s, found without dagster-dbt (loading the code
    location needs no more than this path), and re-parsed first under `dagster dev`, as
    `transformer_project()` does."""
    if project is None and os.getenv("DAGSTER_IS_DEV_CLI"):  # dagster-dbt's `using_dagster_dev`
        prepare_manifest(TRANSFORMER_DIR)
    path = Path(project.manifest_path) if project else _manifest_file(TRANSFORMER_DIR)
    if not path.exists():
        raise TransformerSetupError(
            f"{path} is missing: build it with `python3 run.py prepare` "
            "(or `dbt parse` in transformer/), then load the definitions again"
        )
    return path


def check_profile(project_dir: Path = TRANSFORMER_DIR, target: str | None = None) -> None:
    """Fail fast, in one line, when profiles.yml cannot be read or lacks the target."""
    profiles = project_dir / "profiles.yml"
    target = target or dbt_target()
    try:
        outputs = yaml.safe_load(profiles.read_text())["commerce_governance"]["outputs"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        reason = " ".join(str(error).split())  # YAML errors span lines; the message must not
        raise TransformerSetupError(
            f"{profiles} is unreadable ({type(error).__name__}: {reason}); restore it from git "
            "or fix the YAML"
        ) from None
    if target not in outputs:
        raise TransformerSetupError(
            f"{profiles} has no target {target!r} (it has {', '.join(sorted(outputs))})"
        )


def target_type(project_dir: Path = TRANSFORMER_DIR, target: str | None = None) -> str:
    """The adapter a target builds with (`duckdb`, `bigquery`), from profiles.yml."""
    check_profile(project_dir, target)
    outputs = yaml.safe_load((project_dir / "profiles.yml").read_text())["commerce_governance"]
    return str(outputs["outputs"][target or dbt_target()]["type"])


def prepare_manifest(project_dir: Path = TRANSFORMER_DIR) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files."""
    manifest = _manifest_file(project_dir)
    if manifest.exists() and manifest.stat().st_mtime >= _newest_input(project_dir):
        return manifest
    check_profile(project_dir, "local")
    done = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target",
            "local",
        ],
        capture_output=True,
        text=True,
        cwd=project_dir,
    )
    if done.returncode != 0:
        raise TransformerSetupError(f"`dbt parse` failed:\n{done.stdout}{done.stderr}")
    return manifest
