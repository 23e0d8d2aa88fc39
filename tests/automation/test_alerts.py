"""Failed checks and failed runs become alerts: once each, naming the owner, with the run link,
in the outbox always, in the log, and in Slack when a token is bound.

Runs are real Dagster executions on a temporary persistent instance; sensors are evaluated
through Dagster's own evaluation path (`evaluate_tick`, cursor included) or invoked with a
`build_run_status_sensor_context`; Slack is the real slack_sdk client against the loopback
stand-in in `sandbox/slack.py`.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import dagster as dg

from automation.sensors import run_check_warning_alert, run_failure_alert
from resources.alerts import Alert, AlertsResource
from sandbox.slack import running_slack

OWNER = "team:crm <crm-data@commerce.example>"
WEBSERVER = "http://dagster.test"
# Made per run: a fixed, real-looking token in the source would read as a leaked secret.
GOOD_TOKEN = f"test-bot-token-{uuid.uuid4().hex}"
WRONG_TOKEN = f"wrong-bot-token-{uuid.uuid4().hex}"
# The `rules` table our extraction checks carry (`checks.tables`), examples already masked.
RULES = dg.MetadataValue.table(records=[
    dg.TableRecord({"rule": "email_format", "column": "email", "level": "row", "rows": 2,
                    "examples": "j***@example, <!channel> k***"}),
    dg.TableRecord({"rule": "not_null", "column": "phone", "level": "row", "rows": 1,
                    "examples": "<null>"}),
])


def check_metadata(outcome: str) -> dict:
    return {
        "outcome": outcome, "rows_audited": 1200, "rows_failing": 3, "failure_fraction": 0.0025,
        "owner": OWNER, "rules": RULES, "batch_id": "batch-0042",
        "quarantine_query": "SELECT * FROM raw_zone.quarantine WHERE batch_id = 'batch-0042'",
        "quarantine_path": dg.MetadataValue.path("/raw/quarantine/crm/customer/batch-0042.parquet"),
    }


CONTRACT = dg.AssetCheckSpec("schema_contract", asset="src_customer", blocking=True)
QUALITY = dg.AssetCheckSpec("quality_expectations", asset="src_customer", blocking=True)


@dg.asset(name="src_customer", owners=["team:crm"], check_specs=[CONTRACT])
def blocked_customer():
    """Yields its failed blocking check, then fails the step as our extraction assets do."""
    yield dg.AssetCheckResult(check_name="schema_contract", passed=False,
                              severity=dg.AssetCheckSeverity.ERROR,
                              metadata=check_metadata("blocked"))
    raise dg.Failure("batch-0042 blocked by schema_contract")


@dg.asset(name="src_customer", owners=["team:crm"], check_specs=[QUALITY])
def quarantining_customer() -> dg.MaterializeResult:
    result = dg.AssetCheckResult(check_name="quality_expectations", passed=False,
                                 severity=dg.AssetCheckSeverity.WARN,
                                 metadata=check_metadata("quarantined"))
    return dg.MaterializeResult(check_results=[result])


@dg.asset(name="src_order", owners=["team:orders", "orders@commerce.example"])
def broken_order() -> None:
    raise RuntimeError("the source API is down")


@dg.asset(name="stg_customers", owners=["team:analytics", "analytics@commerce.example"],
          check_specs=[dg.AssetCheckSpec("not_null_stg_customers_email", asset="stg_customers")])
def dbt_like_model() -> dg.MaterializeResult:
    """A dbt warn test as dagster-dbt reports it: its own metadata, no owner."""
    result = dg.AssetCheckResult(check_name="not_null_stg_customers_email", passed=False,
                                 severity=dg.AssetCheckSeverity.WARN,
                                 metadata={"dagster_dbt/failed_row_count": 7, "status": "warn"})
    return dg.MaterializeResult(check_results=[result])


def lines(outbox: Path) -> list[dict]:
    return [json.loads(line) for line in outbox.read_text().splitlines()] if outbox.exists() else []


def alert_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "commerce_governance.alerts"]


def run(instance, *assets) -> dg.ExecuteInProcessResult:
    return dg.materialize(list(assets), instance=instance, raise_on_error=False)


def evaluate(sensor, result, instance, alerts, *assets) -> None:
    """Invoke the sensor the way a unit test does: one run, one context."""
    event = result.get_run_failure_event() if not result.success else result.get_run_success_event()
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_event=event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id), resources={"alerts": alerts},
        repository_def=dg.Definitions(assets=list(assets)).get_repository_def(),
    )
    sensor(context.for_run_failure() if not result.success else context)


def test_a_blocked_batch_is_alerted_once_as_check_blocked(instance, outbox, caplog):
    """Dagster's own evaluation path: the check explains the failure, so one alert, not two;
    the next tick, and a re-evaluation of the same run, send nothing new."""
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER + "/")
    defs = dg.Definitions(assets=[blocked_customer], sensors=[run_failure_alert],
                          resources={"alerts": alerts})

    def tick(cursor):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                          resources={"alerts": alerts})
        return run_failure_alert.evaluate_tick(context).cursor

    cursor = tick(None)  # the first tick only places the cursor after existing runs
    result = run(instance, blocked_customer)
    assert not result.success
    with caplog.at_level(logging.INFO, logger="commerce_governance.alerts"):
        cursor = tick(cursor)
        tick(cursor)
        evaluate(run_failure_alert, result, instance, alerts, blocked_customer)

    (alert,) = lines(outbox)
    assert alert["kind"] == "check_blocked"
    assert alert["key"] == f"{result.run_id}:src_customer"
    assert alert["owner"] == OWNER and f"Owner: {OWNER}" in alert["text"]
    assert alert["run_url"] == f"{WEBSERVER}/runs/{result.run_id}"
    assert f"Run: {alert['run_url']}" in alert["text"]
    assert alert["counts"] == {"rows_audited": 1200, "rows_failing": 3, "failure_fraction": 0.0025}
    assert "1,200 audited, 3 failing" in alert["text"] and "j***@example" in alert["text"]
    assert "raw_zone.quarantine" in alert["text"]
    assert "Quarantine file: /raw/quarantine/crm/customer/batch-0042.parquet" in alert["text"]
    assert "  - email_format on email: 2 rows, e.g. j***@example, <!channel> k***" in alert["text"]
    assert alert["text"].splitlines()[0] == (
        f"Batch blocked by a check: src_customer · schema_contract: 3 rows failing · owner {OWNER}")
    assert alert["delivery"] == {"outbox": "written", "slack": "not configured"}
    (record,) = alert_records(caplog)
    assert record.levelno == logging.ERROR and OWNER in record.getMessage()


def test_a_run_failing_for_another_reason_gives_one_run_failed_alert(instance, outbox):
    """No check explains an exception: the alert carries the root error and the owners."""
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER)
    result = run(instance, broken_order)
    evaluate(run_failure_alert, result, instance, alerts, broken_order)

    (alert,) = lines(outbox)
    assert alert["kind"] == "run_failed" and alert["key"] == f"{result.run_id}:run"
    assert alert["error"] == "RuntimeError: the source API is down"
    assert "src_order: RuntimeError: the source API is down" in alert["text"]
    assert alert["owner"] == "team:orders, orders@commerce.example"
    assert alert["run_url"] == f"{WEBSERVER}/runs/{result.run_id}"


def test_a_blocked_check_does_not_explain_another_failed_step(instance, outbox):
    """Two steps fail, one of them without a check: both the check and the run are alerted."""
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER)
    result = run(instance, blocked_customer, broken_order)
    evaluate(run_failure_alert, result, instance, alerts, blocked_customer, broken_order)
    assert sorted(alert["kind"] for alert in lines(outbox)) == ["check_blocked", "run_failed"]


def test_quarantined_rows_in_a_successful_run_give_one_alert(instance, outbox, caplog):
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER)
    result = run(instance, quarantining_customer)
    assert result.success
    with caplog.at_level(logging.INFO, logger="commerce_governance.alerts"):
        evaluate(run_check_warning_alert, result, instance, alerts, quarantining_customer)
        evaluate(run_check_warning_alert, result, instance, alerts, quarantining_customer)

    (alert,) = lines(outbox)
    assert alert["kind"] == "rows_quarantined" and alert["check"] == "quality_expectations"
    assert alert["owner"] == OWNER and alert["outcome"] == "quarantined"
    (record,) = alert_records(caplog)
    assert record.levelno == logging.WARNING and "Rows quarantined" in record.getMessage()


def test_a_dbt_test_without_owner_metadata_takes_the_assets_owners(instance, outbox):
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER)
    result = run(instance, dbt_like_model)
    evaluate(run_check_warning_alert, result, instance, alerts, dbt_like_model)

    (alert,) = lines(outbox)
    assert alert["kind"] == "check_failed" and alert["asset"] == "stg_customers"
    assert alert["owner"] == "team:analytics, analytics@commerce.example"
    assert alert["counts"] == {"rows_failing": 7}


def test_an_asset_outside_the_code_location_has_an_unknown_owner(instance, outbox):
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER)
    result = run(instance, dbt_like_model)
    evaluate(run_check_warning_alert, result, instance, alerts)  # assets not in the location
    assert lines(outbox)[0]["owner"] == "unknown owner"


def test_with_a_token_the_alert_reaches_the_slack_channel(instance, outbox):
    """The real slack_sdk posts text and blocks; data cannot mention `@channel` by accident."""
    with running_slack(tokens={GOOD_TOKEN}, channels={"#data-alerts": "C0DATAALERT"}) as slack:
        alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER,
                                slack_token=GOOD_TOKEN, slack_base_url=slack.base_url)
        result = run(instance, blocked_customer)
        evaluate(run_failure_alert, result, instance, alerts, blocked_customer)

    (message,) = slack.messages
    assert message["channel"] == "C0DATAALERT"
    assert "team:crm &lt;crm-data@commerce.example&gt;" in message["text"]
    assert "1,200 audited, 3 failing" in message["text"]
    assert "<!channel>" not in json.dumps(message) and "&lt;!channel&gt;" in message["text"]
    assert f"<{WEBSERVER}/runs/{result.run_id}|" in json.dumps(message["blocks"])
    assert lines(outbox)[0]["delivery"]["slack"] == "sent"


def test_a_wrong_token_is_recorded_never_raised_and_never_leaked(instance, outbox, caplog):
    caplog.set_level(logging.DEBUG)  # slack_sdk's debug logging included
    with running_slack(tokens={GOOD_TOKEN}, channels={"#data-alerts"}) as slack:
        alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER,
                                slack_token=WRONG_TOKEN, slack_base_url=slack.base_url)
        result = run(instance, blocked_customer)
        evaluate(run_failure_alert, result, instance, alerts, blocked_customer)

    assert slack.messages == [] and slack.answers == [(200, "invalid_auth")]
    (alert,) = lines(outbox)
    assert alert["delivery"]["slack"] == "failed: invalid_auth"
    assert any("failed: invalid_auth" in r.getMessage() for r in alert_records(caplog))
    assert WRONG_TOKEN not in outbox.read_text()
    assert WRONG_TOKEN not in repr(alerts) and WRONG_TOKEN not in str(alerts)
    for record in caplog.records:
        assert WRONG_TOKEN not in record.getMessage() + str(record.exc_text or "")


def test_rate_limited_and_unreachable_slack_are_recorded(instance, outbox):
    """A 429 with a long Retry-After is not waited for inside a sensor tick; a refused
    connection is retried (nothing was posted) up to the attempt limit."""
    first, second = run(instance, quarantining_customer), run(instance, dbt_like_model)
    with running_slack(tokens={GOOD_TOKEN}, channels={"#data-alerts"}, rate_limit=1) as slack:
        alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER,
                                slack_token=GOOD_TOKEN, slack_base_url=slack.base_url,
                                slack_backoff_s=0.01)
        evaluate(run_check_warning_alert, first, instance, alerts, quarantining_customer)
        evaluate(run_check_warning_alert, second, instance, alerts, dbt_like_model)
    assert [status for status, _ in slack.answers] == [200, 429]
    assert [a["delivery"]["slack"] for a in lines(outbox)] == ["sent", "failed: ratelimited"]

    third = run(instance, broken_order)
    evaluate(run_failure_alert, third, instance, alerts, broken_order)  # the stand-in is gone
    delivery = lines(outbox)[-1]["delivery"]
    assert delivery["slack"] == "failed: ConnectionRefusedError"
    assert delivery["slack_attempts"] == ["ConnectionRefusedError"] * alerts.slack_max_attempts


def test_a_short_rate_limit_is_waited_out_once(outbox):
    """Slack asks for a 1 s pause: the client waits once and the alert is delivered."""
    def alert(key: str) -> Alert:
        return Alert(key=key, kind="check_failed", title="Check failed", run_id="r", job="j",
                     owner=OWNER, run_url=f"{WEBSERVER}/runs/r", text=f"alert {key}")

    with running_slack(tokens={GOOD_TOKEN}, channels={"#data-alerts"}, rate_limit=1,
                       rate_window_s=1) as slack:
        alerts = AlertsResource(outbox=str(outbox), slack_token=GOOD_TOKEN,
                                slack_base_url=slack.base_url)
        assert alerts.send(alert("a")) and alerts.send(alert("b"))
    assert [answer for _, answer in slack.answers] == ["ok", "ratelimited", "ok"]
    assert [a["delivery"]["slack"] for a in lines(outbox)] == ["sent", "sent"]


def test_the_code_location_binds_slack_only_when_a_token_is_set(monkeypatch, tmp_path):
    import resources

    monkeypatch.setenv("GOV_DATA_DIR", str(tmp_path))
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_URL", "DAGSTER_WEBSERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    alerts = resources.defs().resources["alerts"]
    assert alerts.slack_token is None and alerts.webserver_url == "http://localhost:3000"
    assert alerts.outbox == str(tmp_path.resolve() / "alerts" / "outbox.jsonl")

    monkeypatch.setenv("SLACK_BOT_TOKEN", WRONG_TOKEN)
    bound = resources.defs().resources["alerts"]
    assert bound.slack_token == dg.EnvVar("SLACK_BOT_TOKEN")  # resolved at launch, not now
    assert WRONG_TOKEN not in repr(bound)


@dg.asset(name="src_customer", owners=["team:crm"], check_specs=[CONTRACT])
def drifting_customer() -> dg.MaterializeResult:
    """A strict contract's batch that held back two unclassified fields (already masked)."""
    held = [{"field": "loyalty_tier", "json_type": "string", "records": 14,
             "examples": ["XXX-9999"]},
            {"field": "referrer", "json_type": "object", "records": 3,
             "examples": ["<unclassified masked, size 2>"]}]
    result = dg.AssetCheckResult(
        check_name="schema_contract", passed=False, severity=dg.AssetCheckSeverity.WARN,
        metadata={**check_metadata("warned"), "table": "bigcommerce.customers",
                  "unclassified_fields": json.dumps(held)})
    return dg.MaterializeResult(check_results=[result])


def test_each_unclassified_field_is_alerted_once_whatever_the_runs(instance, outbox):
    """Two runs hold the same two fields: one alert per field (and the usual one per run)."""
    alerts = AlertsResource(outbox=str(outbox), webserver_url=WEBSERVER)
    for _ in range(2):
        result = run(instance, drifting_customer)
        assert result.success
        evaluate(run_check_warning_alert, result, instance, alerts, drifting_customer)
    fields = [a for a in lines(outbox) if a["kind"] == "field_unclassified"]
    assert sorted(a["title"] for a in fields) == [
        "New field to classify: src_customer.loyalty_tier",
        "New field to classify: src_customer.referrer"]
    assert all(a["owner"] == OWNER for a in fields)
    assert "publish-classified bigcommerce.customers" in fields[0]["text"]
    assert sum(a["kind"] == "check_failed" for a in lines(outbox)) == 2
