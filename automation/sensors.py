"""Sensors: new quotation files in the drop folder, and finished runs handed to alerting and to
lineage.

The two alerting sensors take the `alerts` resource (bound per environment in `resources.defs()`)
and rely on its outbox ledger, not on their cursors, to alert each failure once. The two lineage
sensors send each finished run's own START and COMPLETE or FAIL (`lineage.dagster_run`), so the
parent job of every step's lineage does not stay RUNNING in Marquez.
"""

import json
from pathlib import Path

import dagster as dg

from automation.alerting import check_alerts, run_alerts
from automation.quotation_import import import_quotation_file
from automation.run_log import post_to_run
from resources.alerts import Alert, AlertsResource
from resources.environment import DataDir
from resources.lineage import LineageResource


def _signature(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def scan_drop_folder(folder: Path, cursor: dict) -> tuple[list[Path], dict]:
    """Files to import now, and the next cursor.

    A file is imported once it looks the same on two consecutive ticks (size and modification
    time unchanged), so one still being written is left for a later tick; each exact file
    (name, size, time) is imported once.
    """
    done: dict[str, str] = cursor.get("done", {})
    previous: dict[str, str] = cursor.get("seen", {})
    ready, seen = [], {}
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        signature = _signature(path)
        if done.get(path.name) == signature:
            continue
        if previous.get(path.name) == signature:
            ready.append(path)
            done[path.name] = signature
        else:
            seen[path.name] = signature
    return ready, {"done": done, "seen": seen}


@dg.sensor(job=import_quotation_file, minimum_interval_seconds=30,
           description="Imports each new, completely written CSV in the quotations drop folder.")
def quotation_file_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    folder = DataDir.from_env().drop_folder / "quotations"
    ready, cursor = scan_drop_folder(folder, json.loads(context.cursor or "{}"))
    requests = [
        dg.RunRequest(
            run_key=f"{path.name}:{cursor['done'][path.name]}",
            run_config={"ops": {"import_quotation_csv": {"config": {"path": str(path)}}}},
            tags={"quotation_file": path.name},
        )
        for path in ready
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor))


@dg.run_failure_sensor(
    name="run_failure_alert",
    # Alerting must not depend on someone remembering to switch it on.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts each failed run: its failed checks, and the failure itself unless a "
    "blocking check already explains it.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertsResource) -> None:
    found = run_alerts(context.instance, context.dagster_run, context.failure_event,
                       webserver_url=alerts.webserver_url, repository_def=context.repository_def)
    _send(context, alerts, found)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="run_check_warning_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts the failed WARN checks of successful runs: quarantined rows and dbt "
    "warn tests.",
)
def run_check_warning_alert(context: dg.RunStatusSensorContext, alerts: AlertsResource) -> None:
    found = check_alerts(context.instance, context.dagster_run,
                         webserver_url=alerts.webserver_url, repository_def=context.repository_def)
    _send(context, alerts, found)


def _send(context: dg.RunStatusSensorContext, alerts: AlertsResource, found: list[Alert]) -> None:
    delivered = []
    for alert in found:
        # The tick log says what happened to each alert; the message itself is in the outbox.
        delivery = alerts.deliver(alert)
        if delivery is None:
            context.log.info(f"alert {alert.key} ({alert.kind}): already sent")
            continue
        delivered.append(alert)
        if str(delivery.get("slack", "")).startswith("failed"):
            context.log.error(f"alert {alert.key} ({alert.kind}): Slack delivery "
                              f"{delivery['slack']}; it is in the outbox {alerts.outbox}")
        else:
            context.log.info(f"alert {alert.key} ({alert.kind}): sent")
    post_to_run(context.instance, context.dagster_run, delivered)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="lineage_of_succeeded_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends each successful run's own lineage START and COMPLETE (the parent "
    "job), then ships the lineage outbox of every finished run to Marquez.",
)
def lineage_of_succeeded_runs(context: dg.RunStatusSensorContext,
                              lineage: LineageResource) -> None:
    _report_lineage(context, lineage)


@dg.run_failure_sensor(
    name="lineage_of_failed_runs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends each failed run's own lineage START and FAIL (the parent job), "
    "then ships the lineage outbox of every finished run to Marquez.",
)
def lineage_of_failed_runs(context: dg.RunFailureSensorContext,
                           lineage: LineageResource) -> None:
    _report_lineage(context, lineage,
                    context.failure_event.message if context.failure_event else None)


def _report_lineage(context: dg.RunStatusSensorContext, lineage: LineageResource,
                    error: str | None = None) -> None:
    from lineage.dagster_run import report_run, ship_finished  # openlineage: only on a tick

    emitter = lineage.emitter()
    report_run(emitter, context.instance, context.dagster_run, error)
    context.log.info(emitter.summary())
    if (shipment := ship_finished(lineage, context.instance)) is not None:
        (context.log.warning if shipment.unavailable or shipment.rejected
         else context.log.info)(shipment.summary())


SENSORS = [quotation_file_sensor, run_failure_alert, run_check_warning_alert,
           lineage_of_succeeded_runs, lineage_of_failed_runs]
