"""Slack deliveries that fail are retried, and still arrive exactly once.

The real slack_sdk client posts to the loopback stand-in in `sandbox/slack.py`, told to answer
with Slack's own failures (429 + Retry-After, `ok: false` `ratelimited`, a gateway's 5xx, a
late answer); the outbox is the ledger that says what happened to each alert.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

import dagster as dg
import pytest

from automation.sensors import run_failure_alert
from resources.alerts import Alert, AlertsResource
from sandbox.slack import running_slack

TOKEN = f"test-bot-token-{uuid.uuid4().hex}"


def alert(key: str = "run-1:src_order") -> Alert:
    return Alert(key=key, kind="check_failed", title="Check failed", run_id="run-1", job="j",
                 owner="team:commerce", run_url="http://dagster.test/runs/run-1",
                 text=f"alert {key}")


def lines(alerts: AlertsResource) -> list[dict]:
    with open(alerts.outbox, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def errors(caplog) -> list[str]:
    """The ERROR lines about Slack deliveries (a run_failed alert's own line is ERROR too)."""
    return [r.getMessage() for r in caplog.records
            if r.name == "commerce_governance.alerts" and r.levelno == logging.ERROR
            and r.getMessage().startswith("Slack delivery")]


@pytest.fixture
def slack():
    with running_slack(tokens={TOKEN}, channels={"#data-alerts"}) as stand_in:
        yield stand_in


@pytest.fixture
def alerts(slack, tmp_path) -> AlertsResource:
    return AlertsResource(outbox=str(tmp_path / "outbox.jsonl"), slack_token=TOKEN,
                          slack_base_url=slack.base_url, slack_backoff_s=0.05)


def test_a_429_then_success_delivers_once_after_its_retry_after(slack, alerts):
    slack.fail_next(1, status=429, retry_after=1)
    started = time.monotonic()
    assert alerts.send(alert())
    assert time.monotonic() - started >= 1.0  # Slack's Retry-After, honoured
    assert not alerts.send(alert())  # the ledger: the same alert is never posted again

    assert len(slack.messages) == 1
    assert slack.answers == [(429, "ratelimited"), (200, "ok")]
    (line,) = lines(alerts)
    assert line["delivery"]["slack"] == "sent"
    assert line["delivery"]["slack_attempts"] == ["ratelimited", "ok"]


def test_ratelimited_in_a_200_and_a_gateway_503_are_retried_too(slack, alerts):
    slack.fail_next(1, status=200, error="ratelimited", retry_after=None)
    slack.fail_next(1, status=503, error=None, retry_after=None)
    assert alerts.send(alert())
    assert len(slack.messages) == 1
    assert slack.answers == [(200, "ratelimited"), (503, "http_503"), (200, "ok")]
    assert lines(alerts)[0]["delivery"]["slack_attempts"] == ["ratelimited", "http_503", "ok"]


def test_a_final_slack_error_is_not_retried(slack, alerts, caplog):
    slack.fail_next(1, status=200, error="channel_not_found", retry_after=None)
    delivery = alerts.deliver(alert())  # what a caller with its own log can report
    assert delivery == {"outbox": "written", "slack": "failed: channel_not_found",
                        "slack_attempts": ["channel_not_found"]}
    assert alerts.deliver(alert()) is None  # already in the ledger
    assert slack.answers == [(200, "channel_not_found")] and slack.messages == []
    assert lines(alerts)[0]["delivery"]["slack"] == "failed: channel_not_found"
    assert any("channel_not_found" in message for message in errors(caplog))


def test_a_retry_after_past_the_budget_is_not_waited_for(slack, alerts):
    slack.fail_next(1, status=429, retry_after=60)
    started = time.monotonic()
    assert alerts.send(alert())
    assert time.monotonic() - started < 5
    assert slack.answers == [(429, "ratelimited")]
    delivery = lines(alerts)[0]["delivery"]
    assert delivery["slack"] == "failed: ratelimited"
    assert "60 s wait is past the 10 s budget" in delivery["slack_attempts"][-1]


def test_a_late_answer_is_not_posted_twice(slack, tmp_path, caplog):
    """The message reached the channel but the client timed out: posting again would double
    it, so the delivery ends there, as an error that says the outcome is unknown."""
    alerts = AlertsResource(outbox=str(tmp_path / "outbox.jsonl"), slack_token=TOKEN,
                            slack_base_url=slack.base_url, slack_timeout_s=0.5)
    slack.slow_next(1, delay_s=1.5)
    assert alerts.send(alert())
    assert len(slack.messages) == 1 and len(slack.answers) == 1
    delivery = lines(alerts)[0]["delivery"]
    assert delivery["slack"].startswith("failed: ") and "outcome unknown" in delivery["slack"]
    assert any("outcome unknown" in message for message in errors(caplog))


@dg.asset(name="src_order", owners=["team:commerce", "commerce-data@commerce.example"])
def broken_order() -> None:
    raise RuntimeError("the source API is down")


def test_always_failing_slack_is_an_error_in_the_log_and_the_outbox_never_a_crash(
    slack, alerts, caplog
):
    """A real failed run, its failure sensor, and a Slack that answers 500 to everything."""
    slack.fail_next(None, status=500, error=None, retry_after=None)
    with dg.instance_for_test() as instance:
        result = dg.materialize([broken_order], instance=instance, raise_on_error=False)
        assert not result.success
        for _ in range(2):  # the sensor sees the run twice (a restart): still one delivery
            context = dg.build_run_status_sensor_context(
                sensor_name=run_failure_alert.name, dagster_event=result.get_run_failure_event(),
                dagster_instance=instance, dagster_run=instance.get_run_by_id(result.run_id),
                resources={"alerts": alerts},
            ).for_run_failure()
            run_failure_alert(context)  # returns normally: alerting never fails a tick

    assert slack.messages == []
    assert slack.answers == [(500, "http_500")] * alerts.slack_max_attempts
    (line,) = lines(alerts)
    assert line["kind"] == "run_failed" and line["key"] == f"{result.run_id}:run"
    assert line["delivery"]["slack"] == "failed: http_500"
    assert line["delivery"]["slack_attempts"] == ["http_500"] * 4
    (message,) = errors(caplog)
    assert f"{result.run_id}:run" in message and "failed: http_500 after 4 attempt(s)" in message
    assert TOKEN not in message
