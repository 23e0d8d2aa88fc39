"""A finished run's page opens on its newest events: the alert sensors post one line per failed
check there (the alert's own headline), once, however often the run is looked at."""

from __future__ import annotations

import dagster as dg

from automation.sensors import run_check_warning_alert, run_failure_alert
from resources.alerts import AlertsResource
from tests.automation.test_alerts import (
    OWNER,
    WEBSERVER,
    blocked_customer,
    broken_order,
    evaluate,
    lines,
    quarantining_customer,
    run,
)


def _engine_lines(instance, run_id: str) -> list[str]:
    return [entry.message for entry in instance.all_logs(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]


def test_a_blocked_run_ends_with_the_failed_checks_headline(instance, outbox):
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER)
    result = run(instance, blocked_customer, broken_order)
    evaluate(run_failure_alert, result, instance, alerts, blocked_customer, broken_order)
    evaluate(run_failure_alert, result, instance, alerts, blocked_customer, broken_order)

    (check_alert,) = [a for a in lines(outbox) if a["kind"] == "check_blocked"]
    posted = [line for line in _engine_lines(instance, result.run_id) if "owner " in line]
    assert posted == [check_alert["text"].splitlines()[0]]  # once, and no line for run_failed
    assert posted[0] == (f"Batch blocked by a check: src_customer · schema_contract: 3 rows "
                         f"failing · owner {OWNER}")
    last = instance.all_logs(result.run_id)[-1]
    assert last.message == posted[0]  # the newest event: where the run page opens


def test_a_warned_run_names_its_quarantine_in_its_log(instance, outbox):
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER)
    result = run(instance, quarantining_customer)
    evaluate(run_check_warning_alert, result, instance, alerts, quarantining_customer)
    posted = [line for line in _engine_lines(instance, result.run_id) if "owner " in line]
    assert posted == [f"Rows quarantined: src_customer · quality_expectations: 3 rows failing · "
                      f"owner {OWNER}"]
