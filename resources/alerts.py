"""Alert delivery: a JSON-lines outbox that is also the ledger, a log line, and Slack.

The outbox is always written, because it is what makes each failure alert exactly once (a
sensor may evaluate the same run again after a restart) and it is the only channel of a
deployment without a Slack token. Slack delivery is best effort: its failures are logged and
recorded on the alert's outbox line, never raised, so a Slack outage cannot fail a sensor tick
and hide the next alerts.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

ALERT_LOGGER = logging.getLogger("commerce_governance.alerts")
DEFAULT_WEBSERVER_URL = "http://localhost:3000"

AlertKind = Literal["check_blocked", "rows_quarantined", "check_failed", "run_failed",
                    "source_late", "source_stale"]
# A blocked batch, a failed run or a stale source (a run is missing) needs someone today;
# quarantined rows, warn tests and a late source can wait.
_LEVELS = {"check_blocked": logging.ERROR, "run_failed": logging.ERROR,
           "source_stale": logging.ERROR, "rows_quarantined": logging.WARNING,
           "check_failed": logging.WARNING, "source_late": logging.WARNING}
# Slack's own limits: header text 150 characters, a section's text 3,000.
_HEADER_MAX, _SECTION_MAX = 150, 3000
# Waiting longer than this inside a sensor tick risks the tick's own timeout.
_MAX_RATE_LIMIT_WAIT_S = 5
_MIN_REDACTED = 16
_ERROR_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


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


class _ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """Retry a 429 once, and only when Slack asks for a short wait."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if response is None or response.status_code != 429:
            return False
        waits = [values for name, values in response.headers.items()
                 if name.lower() == "retry-after"]
        try:
            return bool(waits) and int(waits[0][0]) <= _MAX_RATE_LIMIT_WAIT_S
        except (TypeError, ValueError, IndexError):
            return False


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

    def send(self, alert: Alert) -> bool:
        """Deliver `alert` unless its key is already in the outbox; True when it was sent now."""
        path = Path(self.outbox)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+", encoding="utf-8") as handle:
            # The lock makes check-then-append atomic across sensor processes.
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            if alert.key in _ledger_keys(handle.read()):
                return False
            slack = self._post_to_slack(alert) if self.slack_token else "not configured"
            record = {"sent_at": datetime.now(UTC).isoformat(), **asdict(alert),
                      "delivery": {"outbox": "written", "slack": slack}}
            handle.write(self._redact(json.dumps(record, ensure_ascii=False, default=str)) + "\n")
            handle.flush()
        summary = " | ".join(line.strip() for line in alert.text.splitlines() if line.strip())
        ALERT_LOGGER.log(_LEVELS[alert.kind], "%s", self._redact(summary))
        return True

    def _post_to_slack(self, alert: Alert) -> str:
        client = WebClient(
            token=self.slack_token,
            base_url=self.slack_base_url or WebClient.BASE_URL,
            timeout=10,
            retry_handlers=[ConnectionErrorRetryHandler(), _ShortRateLimitRetry(max_retry_count=1)],
        )
        text, blocks = slack_message(alert)
        try:
            client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)
            return "sent"
        except SlackApiError as error:
            code = error.response.get("error") if isinstance(error.response.data, dict) else None
            # Only a Slack error code is kept: a response body is not ours to copy around.
            if not (isinstance(code, str) and _ERROR_CODE.match(code)):
                code = f"http_{error.response.status_code}"
        except Exception as error:  # network or anything else: an alert must never raise
            code = type(error).__name__
        ALERT_LOGGER.warning("Slack delivery of alert %s to %s failed: %s",
                             alert.key, self.channel, code)
        return f"failed: {code}"

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
