"""The lineage outbox: steps append the events bound for Marquez to their run's file and wait
for nothing; once the run has finished, a shipment sends them in each job's order, keeps what
an unreachable Marquez did not take, and drops (and counts) what Marquez rejects. Against the
Marquez stand-in over loopback HTTP, which follows Marquez's own validation rules."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime

from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import documentation_job, parent_run
from openlineage.client.uuid import generate_new_uuid

from lineage.naming import NAMESPACE, PRODUCER
from resources.lineage import LineageResource
from resources.lineage_outbox import OutboxConfig, OutboxTransport
from tests.lineage.marquez import running_marquez
from tests.lineage.test_resource import closed_port

DAGSTER_RUN = str(generate_new_uuid())


def step_event(name: str, state: RunState, run_id: str, padding: int = 0,
               dagster_run: str = DAGSTER_RUN) -> RunEvent:
    """A step's event, a child of `dagster_run`; `padding` characters of job description make
    it large."""
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=dagster_run),
        job=parent_run.Job(namespace=NAMESPACE, name="etl_pipeline"), producer=PRODUCER)
    facets = {"documentation": documentation_job.DocumentationJobFacet(
        description="d" * padding, producer=PRODUCER)} if padding else {}
    return RunEvent(eventType=state, eventTime=datetime.now(UTC).isoformat(),
                    run=Run(runId=run_id, facets={"parent": parent}),
                    job=Job(namespace=NAMESPACE, name=name, facets=facets), producer=PRODUCER)


def steps(jobs: int) -> list[RunEvent]:
    runs = [(f"step{n}", str(generate_new_uuid())) for n in range(jobs)]
    return ([step_event(name, RunState.START, run) for name, run in runs]
            + [step_event(name, RunState.COMPLETE, run) for name, run in runs])


def test_steps_wait_for_nothing_and_a_finished_run_is_shipped_in_each_jobs_order(tmp_path):
    outbox, events_file = tmp_path / "outbox", tmp_path / "events.jsonl"
    with running_marquez() as marquez:
        lineage = LineageResource(url=marquez.url, outbox=str(outbox),
                                  file_path=str(events_file))
        emitter = lineage.emitter()
        assert sum(emitter.emit(event) for event in steps(6)) == 12
        assert marquez.accepted == []  # nothing was POSTed by the steps
        assert len((outbox / f"{DAGSTER_RUN}.jsonl").read_text().splitlines()) == 12

        assert lineage.ship(lambda run_id: False).sent == 0  # a running run is left alone
        assert len(marquez.accepted) == 0

        shipment = lineage.ship(lambda run_id: run_id == DAGSTER_RUN)
        assert (shipment.sent, shipment.rejected, shipment.kept) == (12, 0, 0), marquez.rejected
        assert not (outbox / f"{DAGSTER_RUN}.jsonl").exists()
        for n in range(6):
            states = [e["eventType"] for e in marquez.accepted if e["job"]["name"] == f"step{n}"]
            assert states == ["START", "COMPLETE"]
        shipped = sorted(json.dumps(e, sort_keys=True) for e in marquez.accepted)
        written = sorted(json.dumps(json.loads(line), sort_keys=True)
                         for line in events_file.read_text().splitlines())
        assert shipped == written  # the events file has exactly what Marquez got
        assert "12 sent, 0 rejected, 0 kept" in shipment.summary()


def test_marquez_down_keeps_every_event_for_the_next_shipment(tmp_path):
    outbox = tmp_path / "outbox"
    down = LineageResource(url=f"http://127.0.0.1:{closed_port()}", outbox=str(outbox))
    emitter = down.emitter()
    for event in steps(3):
        emitter.emit(event)
    assert (emitter.sent, emitter.failed) == (6, 0)  # the outbox took them
    shipment = down.ship(lambda run_id: True)
    assert (shipment.sent, shipment.kept) == (0, 6)
    assert "ConnectionError" in shipment.summary() and "retries" in shipment.summary()
    assert len((outbox / f"{DAGSTER_RUN}.jsonl").read_text().splitlines()) == 6

    with running_marquez() as marquez:
        back = LineageResource(url=marquez.url, outbox=str(outbox))
        shipment = back.ship(lambda run_id: True)
    assert (shipment.sent, shipment.kept) == (6, 0) and len(marquez.accepted) == 6


def test_an_event_marquez_rejects_is_counted_and_dropped_while_the_rest_go(tmp_path):
    outbox = tmp_path / "outbox"
    lineage = LineageResource(url="http://unused", outbox=str(outbox))
    emitter = lineage.emitter()
    for event in steps(2):
        emitter.emit(event)
    with open(outbox / f"{DAGSTER_RUN}.jsonl", "a") as file:  # no eventTime, no run: a 4xx
        file.write(json.dumps({"job": {"namespace": NAMESPACE, "name": "broken"}}) + "\n")
    with running_marquez() as marquez:
        shipment = LineageResource(url=marquez.url, outbox=str(outbox)).ship(lambda _: True)
    assert (shipment.sent, shipment.rejected, shipment.kept) == (4, 1, 0)
    assert len(marquez.accepted) == 4 and len(marquez.rejected) == 1
    assert not (outbox / f"{DAGSTER_RUN}.jsonl").exists()


def _append(folder: str, worker: int, dagster_run: str) -> None:
    transport = OutboxTransport(OutboxConfig(folder=folder))
    for n in range(20):
        transport.emit(step_event(f"w{worker}-{n}", RunState.START, str(generate_new_uuid()),
                                  padding=200_000, dagster_run=dagster_run))


def test_steps_writing_side_by_side_never_tear_a_line(tmp_path):
    """Four processes append 200 kB events to one run's file at once: every line is whole."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append, args=(str(tmp_path), w, DAGSTER_RUN))
               for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    lines = (tmp_path / f"{DAGSTER_RUN}.jsonl").read_text().splitlines()
    assert len(lines) == 80
    assert {json.loads(line)["job"]["name"] for line in lines} == {
        f"w{w}-{n}" for w in range(4) for n in range(20)}


def test_a_second_shipment_at_once_sends_nothing_and_says_the_first_has_it(tmp_path):
    import fcntl

    outbox = tmp_path / "outbox"
    emitter = LineageResource(url="http://unused", outbox=str(outbox)).emitter()
    for event in steps(1):
        emitter.emit(event)
    with running_marquez() as marquez, open(outbox / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the first shipment, still running
        shipment = LineageResource(url=marquez.url, outbox=str(outbox)).ship(lambda _: True)
    assert shipment.busy and shipment.sent == 0 and marquez.accepted == []
    assert "another shipment is running" in shipment.summary()
    assert len((outbox / f"{DAGSTER_RUN}.jsonl").read_text().splitlines()) == 2
