"""Alert delivery: a JSON-lines outbox that is also the ledger, a log line, and Slack.

The outbox is always written, because it is what makes each failure alert exactly once (a
sensor may evaluate the same run again after a restart) and it is the only channel of a
deployment without a Slack token. Its line is written once the delivery has ended, under the
same lock as the check that the key is new, so two senders never post one alert twice.

Slack delivery is retried, within `slack_max_attempts` and `slack_retry_budget_s`, only when
Slack's answer shows the message was not posted: HTTP 429 (waiting its `Retry-After`), an
`ok: false` `ratelimited` or `service_unavailable`, an HTTP 5xx, a connection refused. Any
other `ok: false` error is final, and so is a timeout or a dropped connection, since the
message may have been posted and a retry would post it twice. A delivery that finally fails
is an ERROR in the `commerce_governance.alerts` log and `failed: <code>` on the outbox line
(with every attempt's answer), never raised, so a Slack outage cannot fail a sensor tick or a
run and hide the next alerts. The outbox line is final: a failed alert is not sent again.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
import socket
import time
import urllib.error
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import dagster as dg
from pydantic import Field

if TYPE_CHECKING:  # imported where an alert is posted: the code location loads without it
    from slack_sdk import WebClient

ALERT_LOGGER = logging.getLogger("commerce_governance.alerts")
DEFAULT_WEBSERVER_URL = "http://localhost:3000"

AlertKind = Literal["check_blocked", "rows_quarantined", "check_failed", "run_failed",
                    "source_late", "source_stale", "field_unclassified"]
# A blocked batch, a failed run or a stale source (a run is missing) needs someone today;
# quarantined rows, warn tests and a late source can wait.
_LEVELS = {"check_blocked": logging.ERROR, "run_failed": logging.ERROR,
           "source_stale": logging.ERROR, "rows_quarantined": logging.WARNING,
           "check_failed": logging.WARNING, "source_late": logging.WARNING,
           "field_unclassified": logging.WARNING}
# Slack's own limits: header text 150 characters, a section's text 3,000.
_HEADER_MAX, _SECTION_MAX = 150, 3000
_MIN_REDACTED = 16
_ERROR_CODE = re.compile(r"^[a-z0-9_]{1,64}$")
# `ok: false` codes Slack documents as "not done, try again later" (its other codes are final;
# `internal_error` says part of the call may have happened, so it is not retried).
_RETRY_CODES = frozenset({"ratelimited", "service_unavailable"})


@dataclass(frozen=True)
class Alert:
    """One thing a person must look at, with everything the message needs already resolved."""

    key: str
    kind: AlertKind
    title: str
    run_id: str
    job: str
    owner: str
    run_url: str
    text: str
    asset: str | None = None
    check: str | None = None
    outcome: str | None = None
    counts: dict[str, int | float] = field(default_factory=dict)
    # Already masked by the producer; carried as opaque text.
    examples: list[dict[str, Any]] = field(default_factory=list)
    quarantine: str | None = None
    error: str | None = None


def slack_escape(text: str) -> str:
    """Slack reads `<...>` as links and mentions (`<!channel>`): data must never do that."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_message(alert: Alert) -> tuple[str, list[dict[str, Any]]]:
    """The notification text and the blocks that render it in the channel."""
    text = _clip(slack_escape(alert.text), _SECTION_MAX)
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(alert.title, _HEADER_MAX)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"<{alert.run_url}|Open the run in Dagster>"}]},
    ]
    return text, blocks


@dataclass(frozen=True)
class _Attempt:
    """One chat.postMessage call: `sent`, `retry` (surely not posted) or `final` (give up)."""

    outcome: Literal["sent", "retry", "final"]
    code: str  # "ok", Slack's error code, "http_<status>" or the exception's name
    retry_after_s: float | None = None


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    """Slack's `Retry-After` (seconds), whatever the header's case."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value[0] if isinstance(value, list) else value))
            except (TypeError, ValueError, IndexError):
                return None
    return None


def _never_sent(error: Exception) -> bool:
    """The request never reached Slack: nothing can have been posted."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _post_once(client: WebClient, channel: str, text: str,
               blocks: list[dict[str, Any]]) -> _Attempt:
    from slack_sdk.errors import SlackApiError

    try:
        client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        return _Attempt("sent", "ok")
    except SlackApiError as error:
        response = error.response
        code = response.data.get("error") if isinstance(response.data, dict) else None
        # Only a Slack error code is kept: a response body is not ours to copy around.
        if not (isinstance(code, str) and _ERROR_CODE.match(code)):
            code = f"http_{response.status_code}"
        status = response.status_code
        retry = status == 429 or status >= 500 or code in _RETRY_CODES
        return _Attempt("retry" if retry else "final", code, _retry_after(response.headers))
    except Exception as error:  # network or anything else: an alert must never raise
        if _never_sent(error):
            return _Attempt("retry", type(getattr(error, "reason", error)).__name__)
        return _Attempt("final", f"{type(error).__name__} (outcome unknown, not retried)")


# Optional settings read from the environment: resource field -> variable. Each one applies only
# when set, so an unset variable means "use the default" and the token never enters run config.
OPTIONAL_ENV = {
    "slack_token": "SLACK_BOT_TOKEN",
    "slack_base_url": "SLACK_API_URL",  # a Slack-compatible endpoint (the sandbox stand-in)
    "webserver_url": "DAGSTER_WEBSERVER_URL",
}


class AlertsResource(dg.ConfigurableResource):
    """Sends alerts once each: outbox line + log line always, Slack when a token is bound."""

    # repr=False: Dagster and pydantic print resources in errors; the token must not follow.
    slack_token: str | None = Field(default=None, repr=False)
    channel: str = "#data-alerts"
    slack_base_url: str | None = None
    outbox: str
    webserver_url: str = DEFAULT_WEBSERVER_URL
    # Bounds on one alert's Slack delivery: the ledger stays locked meanwhile, and a sensor
    # tick has about a minute for all of its alerts.
    slack_max_attempts: int = Field(default=4, ge=1)
    slack_retry_budget_s: float = Field(
        default=10.0, ge=0, description="Most seconds spent waiting between attempts.")
    slack_backoff_s: float = Field(
        default=1.0, ge=0, description="First wait when Slack gives no Retry-After; doubles.")
    slack_timeout_s: float = Field(default=10.0, gt=0)

    def send(self, alert: Alert) -> bool:
        """Deliver `alert` unless its key is already in the outbox; True when it was sent now."""
        return self.deliver(alert) is not None

    def deliver(self, alert: Alert) -> dict[str, Any] | None:
        """As `send`, returning what happened to each channel (the outbox line's `delivery`:
        `slack` is "sent", "failed: <code>" or "not configured"), or None when the alert was
        already in the outbox. A caller with a log of its own can report a failed Slack post."""
        path = Path(self.outbox)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+", encoding="utf-8") as handle:
            # The lock makes check-then-append atomic across sensor processes.
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            if alert.key in _ledger_keys(handle.read()):
                return None
            delivery: dict[str, Any] = {"outbox": "written", "slack": "not configured"}
            if self.slack_token:
                delivery["slack"], delivery["slack_attempts"] = self._post_to_slack(alert)
            record = {"sent_at": datetime.now(UTC).isoformat(), **asdict(alert),
                      "delivery": delivery}
            handle.write(self._redact(json.dumps(record, ensure_ascii=False, default=str)) + "\n")
            handle.flush()
        summary = " | ".join(line.strip() for line in alert.text.splitlines() if line.strip())
        ALERT_LOGGER.log(_LEVELS[alert.kind], "%s", self._redact(summary))
        return delivery

    def _post_to_slack(self, alert: Alert) -> tuple[str, list[str]]:
        """("sent" or "failed: <code>", every attempt's answer); see the module docstring."""
        from slack_sdk import WebClient

        # No slack_sdk retry handlers: which failures are safe to retry is decided here.
        client = WebClient(token=self.slack_token, base_url=self.slack_base_url or
                           WebClient.BASE_URL, timeout=self.slack_timeout_s, retry_handlers=[])
        text, blocks = slack_message(alert)
        answers: list[str] = []
        waited, backoff = 0.0, self.slack_backoff_s
        for number in range(1, self.slack_max_attempts + 1):
            attempt = _post_once(client, self.channel, text, blocks)
            answers.append(attempt.code)
            if attempt.outcome == "sent":
                return "sent", answers
            if attempt.outcome == "final" or number == self.slack_max_attempts:
                break
            wait = attempt.retry_after_s if attempt.retry_after_s is not None else backoff
            if waited + wait > self.slack_retry_budget_s:
                answers.append(f"not retried: a {wait:g} s wait is past the "
                               f"{self.slack_retry_budget_s:g} s budget")
                break
            ALERT_LOGGER.info("Slack answered %s to alert %s; attempt %d of %d in %g s",
                              attempt.code, alert.key, number + 1, self.slack_max_attempts, wait)
            time.sleep(wait)
            waited += wait
            backoff *= 2
        ALERT_LOGGER.error("Slack delivery of alert %s to %s failed: %s after %d attempt(s) "
                           "(%s); the alert is in the outbox %s", alert.key, self.channel,
                           attempt.code, number, ", ".join(answers), self.outbox)
        return f"failed: {attempt.code}", answers

    def _redact(self, text: str) -> str:
        # Defence in depth: nothing we write should contain the token, but make sure. Real
        # tokens are ~50 characters; replacing a very short one would corrupt the ledger.
        token = self.slack_token or ""
        return text.replace(token, "[redacted]") if len(token) >= _MIN_REDACTED else text


def _ledger_keys(content: str) -> set[str]:
    keys = set()
    for line in content.splitlines():
        try:
            keys.add(json.loads(line)["key"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn line from a crash mid-write: the alert is sent again
    return keys
