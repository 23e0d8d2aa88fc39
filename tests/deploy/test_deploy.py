"""The deployment in deploy/: its instance config on a real PostgreSQL, and its images' files.

No container engine runs on the development machines or in CI, so the images are never built
here. What can be checked is: the instance config, copied unchanged, carries a real run of
the main job into PostgreSQL and back; and the Dockerfiles, the compose file and
workspace.yaml agree with each other and with the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from assets import EXTRACTION_ASSETS
from resources.environment import REPO_ROOT
from tests.deploy.dockerfile import Dockerfile, ignored
from tests.deploy.tcp_postgres import start_tcp_postgres

DEPLOY = REPO_ROOT / "deploy"
PG_FIELDS = {"hostname": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT",
             "username": "DAGSTER_PG_USER", "password": "DAGSTER_PG_PASSWORD",
             "db_name": "DAGSTER_PG_DB"}


def load_yaml(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())


def location_name() -> str:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["dagster"]["code_location_name"]


@pytest.fixture
def dagster_postgres():
    # Outside pytest's temp root, which a concurrent session may chmod 0700 or prune while
    # the server (running as another OS user when root) still needs it.
    folder = Path(tempfile.mkdtemp(prefix="deploy-pg-"))
    server = start_tcp_postgres(folder / "pg")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_main_job_runs_on_the_deploy_instance_in_postgres(tmp_path, dagster_postgres,
                                                          monkeypatch):
    """deploy/dagster.yaml, copied unchanged, with only the DAGSTER_PG_* variables set: the
    main job's run, events and materializations are in PostgreSQL (and nothing in SQLite),
    and the instance reads them back with the run queue configured."""
    data_dir = tmp_path / "data"
    home = data_dir / "dagster"  # the main command's DAGSTER_HOME; it keeps an existing yaml
    home.mkdir(parents=True)
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, **dagster_postgres.env(), "GOV_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "cli", "main", "--size", "40", "--window-ms", "1000"]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (home / "dagster.yaml").read_bytes() == (DEPLOY / "dagster.yaml").read_bytes()
    assert not list(home.rglob("*.db")), "some storage fell back to SQLite"

    with dagster_postgres.connect() as conn:
        rows = conn.execute("SELECT pipeline_name, status, run_id FROM runs").fetchall()
        assert [row[:2] for row in rows] == [("etl_pipeline", "SUCCESS")]
        run_id = rows[0][2]
        stored = conn.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s "
            "AND dagster_event_type = 'ASSET_MATERIALIZATION'", (run_id,)).fetchone()[0]
        assert stored >= len(EXTRACTION_ASSETS)

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name, value in dagster_postgres.env().items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        [run] = instance.get_runs()
        assert (run.run_id, run.job_name, run.status) == (
            run_id, "etl_pipeline", dg.DagsterRunStatus.SUCCESS)
        # A run launched by hand carries the tag the queue holds to one run at a time.
        assert run.tags.get("governance/pipeline") == "full"
        for asset in EXTRACTION_ASSETS:
            latest = instance.get_latest_materialization_event(asset.key)
            assert latest is not None and latest.run_id == run_id, asset.key

        coordinator = instance.run_coordinator
        assert isinstance(coordinator, dg.QueuedRunCoordinator)
        queue = coordinator.get_run_queue_config()
        wanted = load_yaml("dagster.yaml")["run_coordinator"]["config"]
        assert queue.max_concurrent_runs == wanted["max_concurrent_runs"]
        assert queue.tag_concurrency_limits == wanted["tag_concurrency_limits"]
        assert {"key": "governance/pipeline", "value": "full",
                "limit": 1} in queue.tag_concurrency_limits


def test_instance_config_reads_every_connection_field_from_the_environment():
    config = load_yaml("dagster.yaml")
    assert config["storage"]["postgres"]["postgres_db"] == {
        **{field: {"env": name} for field, name in PG_FIELDS.items()},
        "scheme": "postgresql+psycopg2",  # not SQLAlchemy 2.1's default psycopg 3
    }
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["telemetry"] == {"enabled": False} and config["nux"] == {"enabled": False}


def test_workspace_loads_the_code_location_from_the_code_server():
    [entry] = load_yaml("workspace.yaml")["load_from"]
    server = entry["grpc_server"]
    assert server["location_name"] == location_name()
    code = Dockerfile.read(DEPLOY / "Dockerfile.code")
    assert code.exposed == [server["port"]]
    assert code.command[:3] == ["dagster", "code-server", "start"]
    assert code.option("-p") == str(server["port"]) and code.option("-h") == "0.0.0.0"
    assert code.option("-m") == tomllib.loads(
        (REPO_ROOT / "pyproject.toml").read_text())["tool"]["dagster"]["module_name"]
    compose = load_yaml("docker-compose.yml")["services"]
    assert server["host"] in compose  # the webserver reaches the code server by service name


@pytest.mark.parametrize("name", ["Dockerfile.code", "Dockerfile.webserver"])
def test_every_file_an_image_copies_is_in_the_repository_and_not_ignored(name):
    dockerfile = Dockerfile.read(DEPLOY / name)
    assert dockerfile.base == "python:3.11-slim"
    ignore = DEPLOY / f"{name}.dockerignore"
    patterns = [line.strip() for line in ignore.read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert dockerfile.sources
    for source in dockerfile.sources:
        assert (REPO_ROOT / source).exists(), f"{name} copies {source}, which is not in the repo"
        assert not ignored(source, patterns), f"{ignore.name} leaves {source} out of the context"
    if name == "Dockerfile.code":
        # A development manifest must not be copied in place of the one built in the image.
        assert ignored("transformer/target", patterns)


def test_code_image_installs_the_lock_and_builds_the_manifest():
    code = Dockerfile.read(DEPLOY / "Dockerfile.code")
    assert "requirements.lock" in code.sources
    assert any("pip install" in run and "--no-deps -r /tmp/requirements.lock" in run
               for run in code.runs)
    assert any("prepare_manifest()" in run for run in code.runs)
    assert "transformer" in code.sources and "definitions.py" in code.sources


def test_webserver_and_daemon_run_from_the_webserver_image_within_the_lock():
    web = Dockerfile.read(DEPLOY / "Dockerfile.webserver")
    assert web.exposed == [3000]
    assert web.command[0] == "dagster-webserver" and web.option("-p") == "3000"
    assert web.option("-w") == "workspace.yaml"
    [install] = [run for run in web.runs if "pip install" in run]
    assert "-c /tmp/requirements.lock" in install
    lock = (REPO_ROOT / "requirements.lock").read_text().splitlines()
    pinned = {line.split("==")[0] for line in lock if "==" in line}
    assert {"dagster", "dagster-webserver", "dagster-postgres"} <= set(install.split())
    # dagster-postgres's own dependency, which pip may only take at the locked version.
    assert {"dagster", "dagster-webserver", "dagster-postgres", "psycopg2-binary"} <= pinned
    compose = load_yaml("docker-compose.yml")["services"]
    assert compose["daemon"]["image"] == compose["webserver"]["image"]
    assert compose["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert compose["webserver"]["ports"] == ["3000:3000"]


def test_compose_passes_secrets_from_the_environment_only():
    compose = load_yaml("docker-compose.yml")
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if name.endswith(("TOKEN", "PASSWORD", "URL", "HASH")):
                assert str(value).startswith("${"), f"{name} is written into the compose file"
    code_env = compose["services"]["code"]["environment"]
    assert code_env["GOV_ENV"] == "prod"
    assert set(PG_FIELDS.values()) <= set(code_env)


def test_dockerfile_parser_reads_continuations_and_exec_form(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text('FROM python:3.11-slim AS base\nCOPY a b ./\nRUN one \\\n    two\n'
                    'EXPOSE 80/tcp\nCMD ["x", "-p", "1"]\n')
    parsed = Dockerfile.read(path)
    assert (parsed.base, parsed.sources, parsed.runs) == ("python:3.11-slim", ["a", "b"],
                                                          ["one two"])
    assert (parsed.exposed, parsed.command, parsed.option("-p")) == ([80], ["x", "-p", "1"], "1")
