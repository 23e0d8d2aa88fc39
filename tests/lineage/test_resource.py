"""Where events go: the file, Marquez over HTTP, both, or nowhere, and what an outage costs.

Real parts: the OpenLineage client and its transports, a loopback HTTP receiver holding events to
Marquez's ingest rules, closed ports and a listener that never answers.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from datetime import UTC, datetime

import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.uuid import generate_new_uuid

from lineage.naming import NAMESPACE, PRODUCER
from resources.lineage import HTTP_RETRY, LANES, LineageEmitter, LineageResource
from tests.lineage.marquez import running_marquez
from tests.lineage.spec import validate_event


def event(name: str = "probe", state: RunState = RunState.START, run_id: str | None = None
          ) -> RunEvent:
    return RunEvent(eventType=state, eventTime=datetime.now(UTC).isoformat(),
                    run=Run(runId=run_id or str(generate_new_uuid())),
                    job=Job(namespace=NAMESPACE, name=name), producer=PRODUCER)


def job_runs(jobs: int) -> list[RunEvent]:
    """START then COMPLETE of one run of each of `jobs` jobs, all STARTs first."""
    runs = [(f"job{n}", str(generate_new_uuid())) for n in range(jobs)]
    return ([event(name, RunState.START, run) for name, run in runs]
            + [event(name, RunState.COMPLETE, run) for name, run in runs])


class _Slow:
    """A client that takes 50 ms an event, as Marquez does, and records what overlapped."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()

    def emit(self, sent: RunEvent) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(0.05)
        with self._lock:
            self.in_flight -= 1
            self.received.append((sent.job.name, sent.eventType.value))


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_file_gets_one_json_line_per_event_and_its_folder_is_created(tmp_path):
    """The default transport: JSON lines appended under a folder that did not exist."""
    path = tmp_path / "lineage" / "events.jsonl"
    emitter = LineageResource(file_path=str(path)).emitter()
    assert emitter.emit(event("a")) and emitter.emit(event("b"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["job"]["name"] for line in lines] == ["a", "b"]
    for line in lines:
        validate_event(line)
    assert (emitter.sent, emitter.failed) == (2, 0)


def test_both_transports_take_every_event_and_marquez_accepts_it(tmp_path):
    """File and HTTP together: each event lands in both, and the receiver answers 201."""
    path = tmp_path / "events.jsonl"
    with running_marquez() as marquez:
        emitter = LineageResource(file_path=str(path), url=marquez.url).emitter()
        assert emitter.emit(event())
    assert marquez.rejected == [] and len(marquez.accepted) == 1
    assert json.loads(path.read_text()) == marquez.accepted[0]


def test_marquez_down_is_counted_quickly_while_the_file_still_gets_the_event(tmp_path):
    """A refused connection costs one immediate retry, not the client's ~9 s of backoff."""
    path = tmp_path / "events.jsonl"
    emitter = LineageResource(file_path=str(path),
                              url=f"http://127.0.0.1:{closed_port()}").emitter()
    began = time.monotonic()
    assert emitter.emit(event()) is False
    assert time.monotonic() - began < 2.0
    assert (emitter.sent, emitter.failed) == (0, 1)
    assert len(path.read_text().splitlines()) == 1


def test_a_server_that_never_answers_costs_one_timeout_and_no_retry():
    """A read timeout is not retried: the server may have the event already."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections are queued by the kernel and never answered
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        emitter = LineageResource(url=url, timeout_s=0.5).emitter()
        began = time.monotonic()
        assert emitter.emit(event()) is False
        elapsed = time.monotonic() - began
    assert 0.4 < elapsed < 1.5, elapsed
    assert emitter.failed == 1
    assert HTTP_RETRY["total"] <= 1 and HTTP_RETRY["read"] == 0


def test_nothing_configured_or_disabled_means_no_client_and_nothing_counted(tmp_path):
    path = tmp_path / "events.jsonl"
    for resource in (LineageResource(), LineageResource(file_path=str(path), disabled=True)):
        emitter = resource.emitter()
        assert emitter.client is None and emitter.emit(event()) is False
        assert (emitter.sent, emitter.failed) == (0, 0)
    assert not path.exists()


def test_a_malformed_url_costs_lineage_not_the_caller():
    emitter = LineageResource(url="not a url").emitter()
    assert emitter.client is None and emitter.failed == 1
    assert emitter.emit(event()) is False


def test_an_openlineage_yml_in_the_working_directory_is_ignored(tmp_path, monkeypatch):
    """The stock client would obey it (here: send to the console and copy a secret variable
    into every event); this platform's client is configured in code only."""
    (tmp_path / "openlineage.yml").write_text(
        "transport:\n  type: console\nfacets:\n  environment_variables: [LEAKY_SECRET]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEAKY_SECRET", "s3cr3t-value")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "console")
    path = tmp_path / "events.jsonl"
    emitter = LineageResource(file_path=str(path)).emitter()
    assert emitter.emit(event())
    assert "s3cr3t-value" not in path.read_text()
    assert emitter.client.transport.kind == "file"


def test_definitions_bind_lineage_from_the_environment(tmp_path, monkeypatch):
    """File by default; OPENLINEAGE_URL adds HTTP as an EnvVar; the two switches."""
    import dagster as dg

    import resources

    monkeypatch.setenv("GOV_DATA_DIR", str(tmp_path))
    for name in ("OPENLINEAGE_URL", "GOV_LINEAGE_FILE", "OPENLINEAGE_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    default = resources.defs().resources["lineage"]
    assert default.file_path == str(tmp_path / "lineage" / "events.jsonl")
    assert default.url is None and not default.disabled

    monkeypatch.setenv("OPENLINEAGE_URL", "http://marquez:5000")
    monkeypatch.setenv("GOV_LINEAGE_FILE", "false")
    bound = resources.defs().resources["lineage"]
    assert bound.file_path is None and isinstance(bound.url, dg.EnvVar)
    assert bound.outbox == str(tmp_path / "lineage" / "outbox")  # no step waits for Marquez
    assert os.environ["OPENLINEAGE_URL"] == "http://marquez:5000"  # nothing rewrote it

    monkeypatch.setenv("OPENLINEAGE_DISABLED", "TRUE")
    assert resources.defs().resources["lineage"].disabled


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "https://user:pw@marquez.example"])
def test_http_transport_posts_to_marquez_ingest_path(url):
    """The HTTP transport is Marquez's `api/v1/lineage`, with the short timeout and retry."""
    (config,) = LineageResource(url=url).transport_configs()
    assert config["endpoint"] == "api/v1/lineage" and config["timeout"] == 2.0
    assert config["retry"] == HTTP_RETRY


def test_a_tag_api_that_keeps_failing_is_given_up_after_a_few_calls():
    """Marquez takes the event but answers 503 to its tag API: the tagger stops calling after
    GIVE_UP_AFTER failures in a row and counts every tag it did not set; nothing raises."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import schema_dataset, tags_dataset

    from resources.marquez_tags import GIVE_UP_AFTER, MarquezTagger

    calls = []

    class Failing(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            calls.append((self.command, self.path))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PUT = do_POST = _answer

        def log_message(self, *args) -> None:
            pass

    columns = [f"c{i}" for i in range(8)]
    output = OutputDataset("duckdb:///w.duckdb", "w.raw.t", facets={
        "schema": schema_dataset.SchemaDatasetFacet(fields=[
            schema_dataset.SchemaDatasetFacetFields(name=c, type="VARCHAR") for c in columns]),
        "tags": tags_dataset.TagsDatasetFacet(tags=[
            tags_dataset.TagsDatasetFacetFields(key="pii", value="email", field=c)
            for c in [*columns, "not_in_the_schema"]])})
    tagged = RunEvent(eventType=RunState.COMPLETE, eventTime=datetime.now(UTC).isoformat(),
                      run=Run(runId=str(generate_new_uuid())), producer=PRODUCER,
                      job=Job(namespace=NAMESPACE, name="probe"), outputs=[output])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        tagger = MarquezTagger(f"http://127.0.0.1:{server.server_address[1]}", timeout_s=2)
        tagger.tag_event(tagged)
    finally:
        server.shutdown()
        server.server_close()
    assert len(calls) == GIVE_UP_AFTER and calls[0] == ("PUT", "/api/v1/tags/pii%3Aemail")
    assert (tagger.tagged, tagger.failed) == (0, len(columns))  # one PUT tried per field


def test_emit_all_sends_jobs_side_by_side_and_each_jobs_events_in_order():
    """Up to LANES at once; a job's COMPLETE never overtakes its START."""
    client = _Slow()
    emitter = LineageEmitter(client)
    assert emitter.emit_all(job_runs(10)) == 20
    assert client.most_in_flight == LANES and (emitter.sent, emitter.failed) == (20, 0)
    for n in range(10):
        states = [state for job, state in client.received if job == f"job{n}"]
        assert states == ["START", "COMPLETE"]


def test_emit_all_over_http_lands_every_event_in_marquez_and_the_file(tmp_path):
    path = tmp_path / "events.jsonl"
    with running_marquez() as marquez:
        emitter = LineageResource(file_path=str(path), url=marquez.url).emitter()
        assert emitter.emit_all(job_runs(6)) == 12
    assert marquez.rejected == [] and len(marquez.accepted) == 12
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(map(json.dumps, lines)) == sorted(map(json.dumps, marquez.accepted))
