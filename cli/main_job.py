"""The main job: start the embedded stand-ins, run `etl_pipeline` through Dagster, report.

The run goes through a real Dagster instance under `GOV_DATA_DIR/dagster` (multiprocess
executor), so `python3 run.py ui` shows it afterwards. While it runs, a poller reads the run's
event log and prints each step's progress; at the end it prints one summary row per table.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import dagster as dg

from automation.alerting import root_error
from cli.instance import dagster_instance
from cli.summary import Summary
from resources.environment import DataDir
from resources.transformer import prepare_manifest
from sandbox import services

LAUNCH_TAG = "gov/launch"
EMULATOR_STEPS = 2


def etl_pipeline_job() -> dg.JobDefinition:
    """Module-level so `dg.reconstructable` can rebuild the job in each step process."""
    from definitions import defs

    return defs().resolve_job_def("etl_pipeline")


def run_config(hours_lookback: int, full_refresh: bool, max_concurrent: int) -> dict[str, Any]:
    from assets import EXTRACTION_ASSETS

    extraction = {"hours_lookback": hours_lookback, "full_refresh": full_refresh}
    ops = {a.key.to_python_identifier(): {"config": extraction} for a in EXTRACTION_ASSETS}
    ops["transformer"] = {"config": {"full_refresh": full_refresh}}
    return {
        "ops": ops,
        "execution": {"config": {"multiprocess": {"max_concurrent": max_concurrent}}},
        # The poller prints what matters; every event still lands in the instance for the UI.
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


def _events(instance: dg.DagsterInstance, launch: str) -> Iterator[dg.EventLogEntry]:
    """Yield the launched run's new event-log entries each time it is called (via `next`)."""
    seen = 0
    run_id = None
    while True:
        if run_id is None:
            runs = instance.get_runs(dg.RunsFilter(tags={LAUNCH_TAG: launch}), limit=1)
            run_id = runs[0].run_id if runs else None
        entries = instance.all_logs(run_id) if run_id else []
        yield from entries[seen:]
        seen = len(entries)
        yield None  # a tick: nothing more for now


def _describe(entry: dg.EventLogEntry, summary: Summary) -> str | None:
    event = entry.dagster_event
    if event is None:
        message = entry.user_message
        return f"  … {message[len('progress ') :]}" if message.startswith("progress ") else None
    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
        materialization = event.step_materialization_data.materialization
        row = summary.add(materialization.asset_key.to_user_string(), materialization.metadata)
        if row.requests == "-":  # a dbt model or another transformation
            return f"  ✓ {row.asset}: built, {row.rows} rows, {row.seconds:.1f} s"
        return (
            f"  ✓ {row.asset}: {row.rows} rows published, {row.quarantined} quarantined, "
            f"{row.requests} requests, {row.seconds:.1f} s"
        )
    if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.event_specific_data
        summary.add_check(
            evaluation.asset_key.to_user_string(),
            evaluation.check_name,
            evaluation.passed,
            evaluation.severity.value,
        )
        if not evaluation.passed:
            return (
                f"  ! check {evaluation.check_name} on "
                f"{evaluation.asset_key.to_user_string()} failed ({evaluation.severity.value})"
            )
        return None
    if event.event_type == dg.DagsterEventType.STEP_START:
        return f"  ▶ {event.step_key}"
    if event.event_type == dg.DagsterEventType.STEP_FAILURE:
        error = root_error(event.step_failure_data.error)
        reason = error.message.strip().splitlines()[0] if error else "unknown error"
        summary.failures.append(f"{event.step_key}: {reason}")
        return f"  ✗ {event.step_key}: {reason}"
    return None


@contextmanager
def _engine_output_to(path: Path) -> Iterator[TextIO]:
    """Send this process's and its children's stdout and stderr (Dagster's engine log, dbt's
    console) to a file; yields a stream to the real terminal for the progress lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    try:
        yield terminal
    finally:
        terminal.close()
        sys.stdout.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _as_the_sensors_would(instance: dg.DagsterInstance, run_id: str, data: DataDir) -> None:
    """What the alert and lineage sensors do in a deployment, done here because no daemon runs:
    the same outbox ledger makes sure a sensor that sees this run later sends no alert twice
    (the run's lineage, sent twice, only restates its state)."""
    from automation.alerting import run_alerts
    from automation.run_log import post_to_run
    from definitions import defs
    from lineage.dagster_run import report_run, ship_finished

    run = instance.get_run_by_id(run_id)
    with warnings.catch_warnings():  # Dagster's beta notices belong to the engine log
        warnings.simplefilter("ignore", dg.BetaWarning)
        definitions = defs()
        repository = definitions.get_repository_def()
    # The definitions' own `alerts` resource (its environment variables resolved), so the main
    # job alerts exactly as the sensors would.
    with dg.build_resources({"alerts": definitions.resources["alerts"],
                             "lineage": definitions.resources["lineage"]}) as built:
        # The run's own lineage (its parent job in Marquez), as the lineage sensors send it.
        report_run(built.lineage.emitter(), instance, run)
        if (shipment := ship_finished(built.lineage, instance)) is not None:
            print(shipment.summary(), file=sys.stderr if shipment.unavailable else sys.stdout,
                  flush=True)
        alerts = built.alerts
        found = run_alerts(instance, run, webserver_url=alerts.webserver_url,
                           repository_def=repository)
        deliveries = [(alert, alerts.deliver(alert)) for alert in found]
    sent = [alert for alert, delivery in deliveries if delivery is not None]
    post_to_run(instance, run, sent)
    for alert, delivery in deliveries:
        if delivery is not None and str(delivery.get("slack", "")).startswith("failed"):
            print(f"ERROR: alert {alert.key} ({alert.kind}) could not reach Slack "
                  f"({delivery['slack']}); it is in {data.alert_outbox}", file=sys.stderr)
    where = "Slack and " if alerts.slack_token else ""
    print(f"{len(sent)} alert(s) sent to {where}{data.alert_outbox}", flush=True)


def run(
    data: DataDir,
    options: services.SandboxOptions,
    *,
    hours_lookback: int,
    full_refresh: bool,
    max_concurrent: int,
    warehouse: str = "duckdb",
) -> int:
    """Run the main job end to end; returns the process exit code."""
    data.root.mkdir(parents=True, exist_ok=True)
    print(f"data folder: {data.root}", flush=True)
    print(
        f"starting the sandbox API (size {options.size}, quota {options.quota} per "
        f"{options.window_ms} ms) and the embedded PostgreSQL …",
        flush=True,
    )
    prepare_manifest()
    emulator = _start_emulator(data) if warehouse == "bigquery-emulator" else None
    if emulator is not None:
        os.environ.update({**emulator.env, "GOV_WAREHOUSE": warehouse})
        # It serves one request at a time: more steps at once only queue on it.
        max_concurrent = min(max_concurrent, EMULATOR_STEPS)
    try:
        sandbox = services.start(data, options)
    except BaseException:
        if emulator is not None:
            emulator.stop()
        raise
    os.environ.update(sandbox.env)
    try:
        with dagster_instance(data) as instance:
            launch = uuid.uuid4().hex
            outcome: dict[str, dg.JobExecutionResult] = {}

            def execute() -> None:
                try:
                    outcome["result"] = dg.execute_job(
                        dg.reconstructable(etl_pipeline_job),
                        instance,
                        run_config=run_config(hours_lookback, full_refresh, max_concurrent),
                        tags={LAUNCH_TAG: launch},
                    )
                except Exception as error:  # e.g. definitions that do not load
                    outcome["error"] = error

            summary = Summary()
            engine_log = data.dagster_home / "main-job.log"
            with _engine_output_to(engine_log) as terminal:
                worker = threading.Thread(target=execute, name="etl_pipeline")
                worker.start()
                events = _events(instance, launch)
                while True:
                    alive = worker.is_alive()
                    for entry in iter(lambda: next(events), None):
                        line = _describe(entry, summary)
                        if line:
                            print(line, file=terminal)
                    if not alive:
                        break
                    worker.join(1.0)
            result = outcome.get("result")
            print(summary.table(), flush=True)
            if "error" in outcome:
                print(f"the run could not start: {outcome['error']}", flush=True)
            if result is not None:
                _as_the_sensors_would(instance, result.run_id, data)
            succeeded = bool(result and result.success)
            print(
                f"run {result.run_id if result else '?'}: "
                f"{'SUCCESS' if succeeded else 'FAILURE'}; see it with `python3 run.py ui`"
            )
            return 0 if succeeded else 1
    finally:
        services.stop(data)
        if emulator is not None:
            emulator.stop()


def _start_emulator(data: DataDir) -> Any:
    """The BigQuery emulator in the data folder (its own venv, built on first use)."""
    from sandbox.bigquery import emulator

    print("starting the BigQuery emulator (its venv is built on first use, ~50 s) …",
          flush=True)
    try:
        started = emulator.start(data.sandbox / "bigquery")
    except emulator.EmulatorError as error:  # one line: why, and where its log is
        raise SystemExit(f"ERROR: {error}") from None
    print(f"BigQuery emulator at {started.endpoint}, project {started.project}", flush=True)
    return started
