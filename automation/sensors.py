"""Sensors: new quotation files in the drop folder, and failed runs handed to alerting."""

import json
from pathlib import Path

import dagster as dg

from automation.alerting import describe_run_failure, send_alert
from automation.quotation_import import import_quotation_file
from resources.environment import DataDir


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


@dg.run_failure_sensor(name="run_failure_alert", description="Hands every failed run to alerting.")
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    message = describe_run_failure(context.dagster_run, context.failure_event, context.instance)
    send_alert(message, context.log)


SENSORS = [quotation_file_sensor, run_failure_alert]
