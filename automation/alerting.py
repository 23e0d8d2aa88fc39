"""Where alerts go. For now a log line on the `commerce_governance.alerts` logger; Slack (with
owners from the contracts) replaces `send_alert`'s body without changing its callers."""

from __future__ import annotations

import logging

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

ALERT_LOGGER = logging.getLogger("commerce_governance.alerts")


def root_error(error: SerializableErrorInfo | None) -> SerializableErrorInfo | None:
    """The user's own error: Dagster wraps it in its step-execution errors."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error


def _step_errors(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The first line of each failed step's error, so an alert says what broke."""
    errors = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        error = root_error(entry.dagster_event.step_failure_data.error)
        first_line = (error.message.strip().splitlines() or [""])[0] if error else ""
        errors.append(f"{entry.dagster_event.step_key}: {first_line}")
    return errors


def describe_run_failure(
    run: dg.DagsterRun, event: dg.DagsterEvent | None, instance: dg.DagsterInstance
) -> str:
    reason = event.message if event is not None and event.message else "no reason recorded"
    steps = "; ".join(_step_errors(instance, run.run_id))
    return f"run {run.run_id} of job {run.job_name} failed: {reason}" + (
        f" Failed steps: {steps}" if steps else ""
    )


def send_alert(message: str, log: logging.Logger | dg.DagsterLogManager | None = None) -> None:
    ALERT_LOGGER.error(message)
    if log is not None:
        log.error(message)
