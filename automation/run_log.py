"""A finished run's failed checks, posted to the run's own log where its page opens.

Dagster's run page opens a finished run at its newest events, so lines posted to the run once
it has ended are the first a steward reads there: one per failed check, naming asset, check,
rows and owner. They are the opening lines of the run's check alerts (`automation.alerting`
starts each alert with one `checks.report.headline` per check it covers), so the page and the
Slack message say the same words.
"""

from __future__ import annotations

import dagster as dg

from resources.alerts import Alert

CHECK_KINDS = {"check_blocked", "rows_quarantined", "check_failed", "source_late",
               "source_stale"}


def check_headlines(alerts: list[Alert]) -> list[str]:
    """The headline lines of the check alerts, one per failed check."""
    lines = []
    for alert in alerts:
        if alert.kind in CHECK_KINDS and alert.check:
            checks = len(alert.check.split(", "))
            lines += alert.text.splitlines()[:checks]
    return lines


def post_to_run(instance: dg.DagsterInstance, run: dg.DagsterRun, alerts: list[Alert]) -> int:
    """Post each failed check's headline to the run's log; returns how many were posted.

    Pass only the alerts delivered now (not those the outbox already had), so a run that two
    sensors or the main command look at is summarised once."""
    lines = check_headlines(alerts)
    for line in lines:
        instance.report_engine_event(line, run)
    return len(lines)
