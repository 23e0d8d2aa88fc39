"""A Slack Web API stand-in for `chat.postMessage`, on loopback, enforcing Slack's own rules.

Slack answers most errors with HTTP 200 and `{"ok": false, "error": "<code>"}`; only rate
limiting uses a status (429, with `Retry-After`). The stand-in does the same, so the real
slack_sdk client (and our error handling around it) is exercised exactly as in production:

    with running_slack(tokens={"test-token"}, channels={"#data-alerts"}) as slack:
        WebClient(token="test-token", base_url=slack.base_url).chat_postMessage(...)
        slack.messages  # what the channel received

Faults, for the client's retries (each counts the posts it answers, in order, before any other
rule is applied, as a rate limiter or a gateway in front of the API would):

    slack.fail_next(1)                          # 429 + `Retry-After: 1`, `ratelimited` (Slack's)
    slack.fail_next(2, status=503, retry_after=None)      # a plain-text 503 from the gateway
    slack.fail_next(1, status=200, error="ratelimited")   # `ok: false` in a 200, as Slack may
    slack.fail_next(None, status=500)           # every post from now on: always failing
    slack.slow_next(1, delay_s=2)               # posts the message, but answers 2 s late

A failed post delivers nothing; a slow one is delivered (in `messages`) before it answers, so a
client that times out and posts again would show up as two messages.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

MAX_TEXT = 40_000
MAX_BLOCKS = 50
BLOCK_TYPES = {"section", "header", "context", "divider", "actions", "image", "rich_text",
               "markdown", "input", "file", "video"}


@dataclass
class _Fault:
    """An injected answer for the next `remaining` posts (None: for ever); see the docstring."""

    remaining: int | None
    status: int | None  # None: answer as usual (after `delay_s`)
    error: str | None
    retry_after: int | None
    delay_s: float

    def answer(self) -> tuple[int, dict, dict | str]:
        extra = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        if self.error is None:  # what a gateway in front of the API sends: no JSON
            return self.status, extra, f"{self.status} Service Error"
        return self.status, extra, {"ok": False, "error": self.error}


@dataclass
class SlackStandIn:
    """The running stand-in: its address (slack_sdk's `base_url`) and what it received."""

    base_url: str
    tokens: frozenset[str]
    channels: dict[str, str]  # name without '#' -> channel ID
    rate_limit: int | None = None
    rate_window_s: float = 60.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    # Every answer, in order: (HTTP status, Slack error code or "ok").
    answers: list[tuple[int, str]] = field(default_factory=list)
    _accepted_at: list[float] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int | None, *, status: int = 429, error: str | None = "ratelimited",
                  retry_after: int | None = 1) -> None:
        """Answer the next `count` posts (None: all of them) with `status`: a JSON `ok: false`
        body with `error`, or a plain-text one when `error` is None; `Retry-After` if given."""
        with self._lock:
            self._faults.append(_Fault(count, status, error, retry_after, 0.0))

    def slow_next(self, count: int | None, *, delay_s: float) -> None:
        """Deliver the next `count` posts as usual but answer each `delay_s` seconds late."""
        with self._lock:
            self._faults.append(_Fault(count, None, None, None, delay_s))

    def handle(self, path: str, headers: Mapping[str, str],
               body: bytes) -> tuple[int, dict, dict | str]:
        """(status, extra headers, JSON body or plain text) for one request."""
        with self._lock:
            fault = self._take_fault() if path.rstrip("/") == "/api/chat.postMessage" else None
            if fault is not None and fault.status is not None:
                status, extra, payload = fault.answer()
            else:
                status, extra, payload = self._answer(path, headers, body)
            code = payload.get("error", "ok") if isinstance(payload, dict) else f"http_{status}"
            self.answers.append((status, code))
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)  # outside the lock: other posts are not held up
        return status, extra, payload

    def _take_fault(self) -> _Fault | None:
        while self._faults:
            fault = self._faults[0]
            if fault.remaining is None or fault.remaining > 0:
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
            self._faults.pop(0)
        return None

    def _answer(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict, dict]:
        if path.rstrip("/") != "/api/chat.postMessage":
            return 200, {}, {"ok": False, "error": "unknown_method"}
        params = _params(headers.get("Content-Type", ""), body)
        if params is None:
            return 200, {}, {"ok": False, "error": "invalid_form_data"}
        token = _bearer(headers.get("Authorization", "")) or params.get("token")
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token not in self.tokens:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        retry_after = self._retry_after()
        if retry_after is not None:
            return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
        channel = self._channel_id(params.get("channel"))
        if channel is None:
            return 200, {}, {"ok": False, "error": "channel_not_found"}
        text, blocks = params.get("text"), params.get("blocks")
        if not text and not blocks:
            return 200, {}, {"ok": False, "error": "no_text"}
        if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
            return 200, {}, {"ok": False, "error": "msg_too_long"}
        if blocks is not None:
            blocks = _parse_blocks(blocks)
            if blocks is None:
                return 200, {}, {"ok": False, "error": "invalid_blocks"}
        self._accepted_at.append(time.monotonic())
        ts = f"{int(time.time())}.{len(self.messages) + 1:06d}"
        message = {"type": "message", "user": "U0ALERTBOT", "bot_id": "B0ALERTBOT", "ts": ts,
                   "text": text or "", **({"blocks": blocks} if blocks else {})}
        self.messages.append({**message, "channel": channel})
        return 200, {}, {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _retry_after(self) -> int | None:
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        recent = [at for at in self._accepted_at if now - at < self.rate_window_s]
        if len(recent) < self.rate_limit:
            return None
        return max(1, math.ceil(self.rate_window_s - (now - recent[0])))

    def _channel_id(self, channel: Any) -> str | None:
        if not isinstance(channel, str):
            return None
        name = channel.removeprefix("#")
        if name in self.channels:
            return self.channels[name]
        return channel if channel in self.channels.values() else None


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _params(content_type: str, body: bytes) -> dict[str, Any] | None:
    """slack_sdk posts JSON for chat.postMessage; Slack also accepts form-encoded arguments."""
    try:
        if content_type.startswith("application/json"):
            parsed = json.loads(body or b"{}")
            return parsed if isinstance(parsed, dict) else None
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        return {name: values[-1] for name, values in form.items()}
    except (ValueError, UnicodeDecodeError):
        return None


def _text_object(value: Any, *, plain_only: bool = False, limit: int = 3000) -> bool:
    allowed = {"plain_text"} if plain_only else {"plain_text", "mrkdwn"}
    return (isinstance(value, dict) and value.get("type") in allowed
            and isinstance(value.get("text"), str) and 0 < len(value["text"]) <= limit)


def _valid_block(block: Any) -> bool:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        return False
    if "block_id" in block and not (isinstance(block["block_id"], str)
                                    and len(block["block_id"]) <= 255):
        return False
    kind = block["type"]
    if kind == "header":
        return _text_object(block.get("text"), plain_only=True, limit=150)
    if kind == "section":
        fields = block.get("fields")
        if fields is not None and not (isinstance(fields, list) and 0 < len(fields) <= 10 and all(
                _text_object(f, limit=2000) for f in fields)):
            return False
        return _text_object(block.get("text")) or ("text" not in block and fields is not None)
    if kind == "context":
        elements = block.get("elements")
        return isinstance(elements, list) and 0 < len(elements) <= 10 and all(
            _text_object(e) or (isinstance(e, dict) and e.get("type") == "image")
            for e in elements)
    return True


def _parse_blocks(blocks: Any) -> list[dict[str, Any]] | None:
    """The blocks, or None when Slack would answer `invalid_blocks`."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return None
    if not isinstance(blocks, list) or not 0 < len(blocks) <= MAX_BLOCKS:
        return None
    return blocks if all(_valid_block(block) for block in blocks) else None


def _handler(slack: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, extra, payload = slack.handle(self.path.split("?")[0], self.headers, body)
            text = isinstance(payload, str)
            data = payload.encode() if text else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8" if text
                             else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet tests; and request lines are never worth logging here

    return Handler


@contextmanager
def running_slack(
    tokens: Iterable[str],
    channels: Mapping[str, str] | Iterable[str],
    *,
    rate_limit: int | None = None,
    rate_window_s: float = 60.0,
) -> Iterator[SlackStandIn]:
    """Serve the stand-in on 127.0.0.1 (a free port) for the duration of the block.

    `channels` maps names ("#data-alerts") to IDs, or lists names (IDs are made up);
    `rate_limit` accepted messages per `rate_window_s` are allowed, then 429 + Retry-After.
    """
    if isinstance(channels, Mapping):
        by_name = {name.removeprefix("#"): cid for name, cid in channels.items()}
    else:
        by_name = {name.removeprefix("#"): f"C{n:09d}" for n, name in enumerate(channels, 1)}
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    # slack_sdk appends the method name to `base_url` (adding a trailing '/' when missing).
    slack = SlackStandIn(base_url=f"http://127.0.0.1:{server.server_address[1]}/api/",
                         tokens=frozenset(tokens), channels=by_name, rate_limit=rate_limit,
                         rate_window_s=rate_window_s)
    server.RequestHandlerClass = _handler(slack)
    thread = threading.Thread(target=server.serve_forever, name="slack-stand-in", daemon=True)
    thread.start()
    try:
        yield slack
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
