"""The Dagster run as a lineage job of its own: the parent every step's events name.

Each extraction and dbt event carries a `parent` facet naming the Dagster run (job `<Dagster
job>`, run id = Dagster's). Marquez creates that parent from the children's facets, but sets its
state only from the parent's own events: without them it would stay RUNNING forever. So once a
run has finished, its START (at the run's start time) and COMPLETE or FAIL (at its end) are sent,
with the run's real times from the instance. Sensors do it in a deployment (`automation`), and
`python3 run.py main` does it itself, since no daemon runs there; sending twice is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dagster as dg
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
)

from lineage.extraction import nominal_time, scrub
from lineage.naming import NAMESPACE, PRODUCER
from resources.lineage import LineageEmitter, LineageResource
from resources.lineage_outbox import Shipment


def _at(timestamp: float | None) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC) if timestamp else datetime.now(UTC)
    return moment.isoformat()


def run_events(run: dg.DagsterRun, stats: Any = None,
               error: str | None = None) -> list[RunEvent]:
    """START and COMPLETE (or FAIL, with `error`) of a finished Dagster run; `stats` is the
    instance's run stats (start and end times), or None for now."""
    job = Job(namespace=NAMESPACE, name=run.job_name, facets={
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="DAGSTER", jobType="JOB", producer=PRODUCER),
        "documentation": documentation_job.DocumentationJobFacet(
            description=f"The Dagster job {run.job_name}: each of its steps is a child job.",
            producer=PRODUCER),
    })
    facets: dict = {}
    if nominal := nominal_time(dict(run.tags)):
        facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=nominal, producer=PRODUCER)
    succeeded = run.status == dg.DagsterRunStatus.SUCCESS
    closing = dict(facets)
    if not succeeded:
        closing["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=scrub(error or f"Dagster run {run.status.value}"),
            programmingLanguage="python", producer=PRODUCER)
    started = stats.start_time if stats else None
    ended = stats.end_time if stats else None
    return [
        RunEvent(eventType=RunState.START, eventTime=_at(started), producer=PRODUCER,
                 run=Run(runId=run.run_id, facets=facets), job=job),
        RunEvent(eventType=RunState.COMPLETE if succeeded else RunState.FAIL,
                 eventTime=_at(ended), producer=PRODUCER,
                 run=Run(runId=run.run_id, facets=closing), job=job),
    ]


def report_run(emitter: LineageEmitter, instance: dg.DagsterInstance, run: dg.DagsterRun,
               error: str | None = None) -> int:
    """Send the finished run's own events; how many were delivered. Never raises."""
    try:
        events = run_events(run, instance.get_run_stats(run.run_id), error)
    except Exception:  # lineage must not fail a sensor tick or the command
        emitter.failed += 1
        return 0
    return sum(emitter.emit(event) for event in events)


def ship_finished(lineage: LineageResource, instance: dg.DagsterInstance) -> Shipment | None:
    """Ship the outbox of every run the instance says has finished (a file whose run the
    instance does not know, from another instance, waits); None without an outbox."""

    def finished(run_id: str) -> bool:
        run = instance.get_run_by_id(run_id)
        return run is not None and run.is_finished

    return lineage.ship(finished)


__all__ = ["report_run", "run_events", "ship_finished"]
