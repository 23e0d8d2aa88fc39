"""The real Marquez API (`python3 run.py marquez`, sandbox/marquez): events sent through the
project's own emitter are stored and read back through Marquez's API, and every way of not
starting says why in one line.

Real parts: Marquez 0.51.1 on Java with its PostgreSQL (one per session, tests/lineage/conftest.py),
the OpenLineage client over HTTP, `run.py` in a subprocess with a PATH that lacks Java or Maven.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.uuid import generate_new_uuid

from lineage.naming import NAMESPACE, PRODUCER, DatasetId, postgres_table, warehouse_table
from resources.environment import REPO_ROOT
from resources.lineage import LineageResource
from sandbox import marquez
from sandbox.marquez.jars import VERSION
from tests.lineage.conftest import free_port

SOURCE = postgres_table("postgresql://localhost:5432/wise", "point_transaction")
COLUMNS = [("id", "bigint"), ("points", "integer")]


def get(server: marquez.Marquez, path: str) -> dict:
    with urllib.request.urlopen(f"{server.url}{path}", timeout=10) as answer:
        return json.load(answer)


def events(job: str, target: DatasetId) -> list[RunEvent]:
    """START then COMPLETE of one run reading SOURCE and writing `target` with a schema."""
    run = Run(runId=str(generate_new_uuid()))
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in COLUMNS])
    return [
        RunEvent(eventType=state, eventTime=datetime.now(UTC).isoformat(), run=run,
                 job=Job(namespace=NAMESPACE, name=job), producer=PRODUCER,
                 inputs=[InputDataset(namespace=SOURCE.namespace, name=SOURCE.name)],
                 outputs=[OutputDataset(namespace=target.namespace, name=target.name,
                                        facets={"schema": schema})])
        for state in (RunState.START, RunState.COMPLETE)
    ]


@pytest.mark.slow
def test_an_emitted_run_is_stored_as_marquez_shows_it(real_marquez, tmp_path):
    """Through LineageResource's HTTP transport: the job with its last run COMPLETED, the
    output dataset's fields, and the lineage graph linking source -> job -> output."""
    target = warehouse_table(tmp_path / "warehouse.duckdb", "raw_wise", "point_transaction")
    job = f"probe_{generate_new_uuid().hex[:8]}"
    # Not the 2 s default: a just-started Marquez (cold JVM) took 1.9 s for its first event, and
    # more than 2 s once beside other test runs; what is tested here is what it stores.
    emitter = LineageResource(url=real_marquez.url, timeout_s=30).emitter()
    for event in events(job, target):
        assert emitter.emit(event)
    assert (emitter.sent, emitter.failed) == (2, 0)

    jobs = get(real_marquez, f"/api/v1/namespaces/{quote(NAMESPACE, safe='')}/jobs")["jobs"]
    stored = next(found for found in jobs if found["name"] == job)
    assert stored["latestRun"]["state"] == "COMPLETED"
    assert stored["inputs"] == [{"namespace": SOURCE.namespace, "name": SOURCE.name}]
    assert stored["outputs"] == [{"namespace": target.namespace, "name": target.name}]

    dataset = get(real_marquez, f"/api/v1/namespaces/{quote(target.namespace, safe='')}"
                                f"/datasets/{quote(target.name, safe='')}")
    # in no set order: Marquez reads a version's fields without ORDER BY (DatasetFieldDao), and
    # gave them in another order in 1 of 3 runs on 2026-12-03
    assert sorted((field["name"], field["type"]) for field in dataset["fields"]) == sorted(COLUMNS)

    node = f"job:{NAMESPACE}:{job}"
    graph = get(real_marquez, f"/api/v1/lineage?nodeId={quote(node, safe='')}&depth=2")["graph"]
    edges = {(edge["origin"], edge["destination"])
             for entry in graph for edge in entry["inEdges"] + entry["outEdges"]}
    assert (f"dataset:{SOURCE.namespace}:{SOURCE.name}", node) in edges
    assert (node, f"dataset:{target.namespace}:{target.name}") in edges


def run_py(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`run.py` as a user types it, with exactly `env` (the venv's interpreter runs it, so no
    python3 need be on PATH)."""
    return subprocess.run([sys.executable, "run.py", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_status_and_a_second_start_find_the_running_marquez(real_marquez):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
           "GOV_DATA_DIR": str(real_marquez.folder.parent.parent)}
    status = run_py("marquez", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.strip() == (f"running at {real_marquez.url} "
                                     f"(admin {real_marquez.admin_url})")
    again = run_py("marquez", "start", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"already running at {real_marquez.url}")
    assert f"OPENLINEAGE_URL={real_marquez.url}" in again.stdout


def start_without(tmp_path: Path, keep: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """`run.py marquez start` with a PATH holding only `keep` (links to the real ones), an
    empty jar cache and no GOV_MARQUEZ_JAR."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in keep:
        (bin_dir / name).symlink_to(shutil.which(name))
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "GOV_DATA_DIR": str(tmp_path / "data"),
           "GOV_MARQUEZ_CACHE": str(tmp_path / "cache")}
    return run_py("marquez", "start", "--port", str(free_port()),
                  "--admin-port", str(free_port()), env=env)


def test_without_java_start_says_so_in_one_line(tmp_path):
    done = start_without(tmp_path, keep=())
    assert done.returncode == 1
    assert done.stdout.startswith("Java is missing: no `java` on PATH")
    assert len(done.stdout.splitlines()) == 1 and done.stderr == ""


def test_without_maven_a_first_start_says_so_in_one_line(tmp_path):
    done = start_without(tmp_path, keep=("java",))
    assert done.returncode == 1
    assert done.stdout.startswith("Maven is missing: no `mvn` on PATH")
    assert len(done.stdout.splitlines()) == 1 and done.stderr == ""


@pytest.mark.slow
def test_a_marquez_that_exits_is_one_line_naming_its_log_and_leaves_nothing_running(
    tmp_path, monkeypatch
):
    """A jar without Marquez in it: Java exits at once; the reason is the log's root cause,
    and the PostgreSQL started for it is stopped again."""
    (tmp_path / "empty.jar").write_bytes(b"")
    monkeypatch.setenv("GOV_MARQUEZ_JAR", str(tmp_path / "empty.jar"))
    data = Path(tempfile.mkdtemp(prefix="marquez-exits-"))  # see conftest: not under tmp_path
    folder = data / "marquez"
    try:
        with pytest.raises(marquez.MarquezError) as failure:
            marquez.start(folder, port=free_port(), admin_port=free_port(), timeout_s=60)
        message = str(failure.value)
        assert "\n" not in message and message.startswith("Marquez exited with code 1")
        assert message.endswith(f"its log: {folder / 'marquez.log'}")
        assert "marquez.MarquezApp" in message
        assert not (folder / "postgres" / "postmaster.pid").exists()
        assert marquez.running(folder) is None
    finally:
        marquez.stop(folder)
        shutil.rmtree(data, ignore_errors=True)


def test_the_compose_file_runs_the_same_marquez_as_the_command():
    """docker-compose.marquez.yml, for Docker users: the version the command fetches, and the
    API and admin on the command's default ports of the loopback."""
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.marquez.yml").read_text())
    api = compose["services"]["api"]
    assert api["image"] == f"marquezproject/marquez:{VERSION}"
    assert compose["services"]["web"]["image"] == f"marquezproject/marquez-web:{VERSION}"
    assert api["environment"]["SEARCH_ENABLED"] == "false"
    assert api["ports"] == [f"127.0.0.1:{marquez.API_PORT}:{marquez.API_PORT}",
                            f"127.0.0.1:{marquez.ADMIN_PORT}:{marquez.ADMIN_PORT}"]
