"""Schedules tick on Seoul time; the drop-folder sensor imports each complete file exactly once;
a failed run reaches the alerting code."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

# The scheduler daemon's own tick iterator (private, pinned with dagster's version): testing
# with it proves where the daemon will put the ticks, not where we think it should.
from dagster._utils.schedules import cron_string_iterator

from automation.schedules import SCHEDULES
from automation.sensors import (
    lineage_of_failed_runs,
    lineage_of_succeeded_runs,
    quotation_file_sensor,
    run_failure_alert,
    scan_drop_folder,
)
from resources.alerts import AlertsResource
from resources.lineage import LineageResource
from tests.lineage.spec import validate_event

BY_NAME = {schedule.name: schedule for schedule in SCHEDULES}
SEOUL = "Asia/Seoul"


def next_ticks(name: str, after: datetime, count: int) -> list[datetime]:
    schedule = BY_NAME[name]
    ticks = cron_string_iterator(after.timestamp(), schedule.cron_schedule,
                                 schedule.execution_timezone)
    return [next(ticks).astimezone(UTC) for _ in range(count)]


@pytest.mark.parametrize(
    ("name", "job", "utc_hour"),
    [("sync_customer_daily", "sync_customer", 17), ("etl_pipeline_daily", "etl_pipeline", 18)],
)
def test_daily_schedules_tick_at_their_seoul_hour(name, job, utc_hour):
    """02:00 and 03:00 KST are 17:00 and 18:00 UTC of the day before, every day."""
    assert BY_NAME[name].job_name == job
    ticks = next_ticks(name, datetime(2026, 11, 27, 12, tzinfo=UTC), 3)
    assert ticks == [datetime(2026, 11, 27 + day, utc_hour, tzinfo=UTC) for day in range(3)]


def test_hourly_notifications_tick_on_the_hour():
    ticks = next_ticks("product_notification_hourly", datetime(2026, 11, 27, 0, 30, tzinfo=UTC), 3)
    assert BY_NAME["product_notification_hourly"].job_name == "create_product_notification_event"
    assert ticks == [datetime(2026, 11, 27, hour, tzinfo=UTC) for hour in (1, 2, 3)]


def write(path: Path, text: str, age_s: float = 0) -> None:
    path.write_text(text)
    stamp = (datetime.now() - timedelta(seconds=age_s)).timestamp()
    os.utime(path, (stamp, stamp))


def evaluate(folder: Path, cursor: str | None, monkeypatch) -> dg.SensorResult:
    monkeypatch.setenv("GOV_DATA_DIR", str(folder.parent.parent))
    return quotation_file_sensor(dg.build_sensor_context(cursor=cursor))


def test_the_drop_sensor_fires_once_per_complete_file(tmp_path, monkeypatch):
    """First sight: wait. Unchanged on the next tick: import. After that: never again."""
    folder = tmp_path / "drop" / "quotations"
    folder.mkdir(parents=True)
    write(folder / "q1.csv", "id,updated_at\n1,2026-11-27T00:00:00Z\n", age_s=60)

    first = evaluate(folder, None, monkeypatch)
    assert first.run_requests == []
    second = evaluate(folder, first.cursor, monkeypatch)
    assert [r.tags["quotation_file"] for r in second.run_requests] == ["q1.csv"]
    config = second.run_requests[0].run_config["ops"]["import_quotation_csv"]["config"]
    assert config == {"path": str(folder / "q1.csv")}
    third = evaluate(folder, second.cursor, monkeypatch)
    assert third.run_requests == []


def test_a_file_still_being_written_is_left_for_a_later_tick(tmp_path):
    """Its size changes between ticks, so it is not imported until it stops changing."""
    folder = tmp_path
    write(folder / "big.csv", "id,updated_at\n", age_s=0)
    ready, cursor = scan_drop_folder(folder, {})
    assert ready == []
    with (folder / "big.csv").open("a") as handle:
        handle.write("1,2026-11-27T00:00:00Z\n")
    ready, cursor = scan_drop_folder(folder, cursor)
    assert ready == []  # grew since the last tick
    ready, cursor = scan_drop_folder(folder, cursor)
    assert ready == [folder / "big.csv"]
    assert scan_drop_folder(folder, cursor)[0] == []


def test_a_replaced_file_is_a_new_file(tmp_path):
    folder = tmp_path
    write(folder / "q.csv", "id\n1\n", age_s=60)
    _, cursor = scan_drop_folder(folder, {})
    ready, cursor = scan_drop_folder(folder, cursor)
    assert ready == [folder / "q.csv"]
    write(folder / "q.csv", "id\n1\n2\n", age_s=30)
    _, cursor = scan_drop_folder(folder, cursor)
    assert scan_drop_folder(folder, cursor)[0] == [folder / "q.csv"]
    assert json.dumps(cursor)  # the cursor stays serialisable


def test_a_failed_run_is_handed_to_alerting(caplog, tmp_path):
    """The run-failure sensor turns the failure into an alert naming the job and the reason."""

    @dg.op
    def explode() -> None:
        raise RuntimeError("the source API is down")

    @dg.job
    def doomed() -> None:
        explode()

    instance = dg.DagsterInstance.ephemeral()
    result = doomed.execute_in_process(instance=instance, raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_event=failure, dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"alerts": AlertsResource(outbox=str(tmp_path / "outbox.jsonl"))},
    ).for_run_failure()
    with caplog.at_level(logging.ERROR, logger="commerce_governance.alerts"):
        run_failure_alert(context)
    (alert,) = [r.getMessage() for r in caplog.records if r.name == "commerce_governance.alerts"]
    assert "doomed" in alert and result.run_id in alert and "failed" in alert
    assert "explode: RuntimeError: the source API is down" in alert


def test_a_finished_run_gets_its_own_lineage_start_and_close(tmp_path):
    """The lineage sensors send the Dagster run's own START and COMPLETE or FAIL (the parent
    job of its steps' lineage), at the run's start and end times, the failure's message on
    FAIL; each event valid against the OpenLineage schemas."""

    @dg.op
    def work(context) -> None:
        context.log.info("working")

    @dg.op
    def explode() -> None:
        raise RuntimeError("the source API is down")

    @dg.job
    def fine() -> None:
        work()

    @dg.job
    def doomed() -> None:
        explode()

    instance = dg.DagsterInstance.ephemeral()
    events_file = tmp_path / "events.jsonl"
    lineage = LineageResource(file_path=str(events_file))
    ok = fine.execute_in_process(instance=instance)
    bad = doomed.execute_in_process(instance=instance, raise_on_error=False)
    success = next(e for e in ok.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
    failure = next(e for e in bad.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    lineage_of_succeeded_runs(dg.build_run_status_sensor_context(
        sensor_name="lineage_of_succeeded_runs", dagster_event=success,
        dagster_instance=instance, dagster_run=ok.dagster_run, resources={"lineage": lineage}))
    lineage_of_failed_runs(dg.build_run_status_sensor_context(
        sensor_name="lineage_of_failed_runs", dagster_event=failure, dagster_instance=instance,
        dagster_run=bad.dagster_run, resources={"lineage": lineage}).for_run_failure())

    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    for event in events:
        validate_event(event)
    assert [(e["job"]["name"], e["run"]["runId"], e["eventType"]) for e in events] == [
        ("fine", ok.run_id, "START"), ("fine", ok.run_id, "COMPLETE"),
        ("doomed", bad.run_id, "START"), ("doomed", bad.run_id, "FAIL")]
    stats = instance.get_run_stats(ok.run_id)
    assert datetime.fromisoformat(events[0]["eventTime"]).timestamp() == pytest.approx(
        stats.start_time, abs=0.001)
    assert datetime.fromisoformat(events[1]["eventTime"]).timestamp() == pytest.approx(
        stats.end_time, abs=0.001)
    assert "explode" in events[3]["run"]["facets"]["errorMessage"]["message"]


def test_the_lineage_sensor_ships_finished_runs_outboxes_and_leaves_a_running_ones(tmp_path):
    """With an outbox, the sensor writes the run's own events there and ships every finished
    run's file to Marquez (the stand-in, over HTTP); a file of a run still going stays."""
    from tests.lineage.marquez import running_marquez

    @dg.op
    def work() -> None:
        pass

    @dg.job
    def fine() -> None:
        work()

    instance = dg.DagsterInstance.ephemeral()
    ok = fine.execute_in_process(instance=instance)
    running = instance.create_run_for_job(fine, run_config={})  # not started: not finished
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    step = {"eventType": "COMPLETE", "eventTime": "2026-12-03T00:00:00+00:00",
            "producer": "https://example.com/p", "schemaURL":
            "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "job": {"namespace": "commerce_governance", "name": "step"}, "inputs": [],
            "outputs": []}
    for run_id in (ok.run_id, running.run_id):
        line = {**step, "run": {"runId": run_id}}
        (outbox / f"{run_id}.jsonl").write_text(json.dumps(line) + "\n")
    success = next(e for e in ok.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
    with running_marquez() as marquez:
        lineage = LineageResource(url=marquez.url, outbox=str(outbox))
        lineage_of_succeeded_runs(dg.build_run_status_sensor_context(
            sensor_name="lineage_of_succeeded_runs", dagster_event=success,
            dagster_instance=instance, dagster_run=ok.dagster_run,
            resources={"lineage": lineage}))
    got = [(e["job"]["name"], e["eventType"]) for e in marquez.accepted]
    # jobs go side by side; each job's own events keep their order
    assert sorted(got) == [("fine", "COMPLETE"), ("fine", "START"), ("step", "COMPLETE")]
    assert [state for job, state in got if job == "fine"] == ["START", "COMPLETE"]
    assert sorted(p.name for p in outbox.glob("*.jsonl")) == [f"{running.run_id}.jsonl"]
