"""The sandbox application: a BigCommerce store on a local port, for offline runs and tests.

Client code runs against it unchanged, with only the base URL and token swapped. Every request
under `/stores/{store_hash}/` passes the same gates as on the real platform, in this order:

    store hash (404) -> X-Auth-Token (401) -> store quota (429) -> transport faults -> handler
    (404/413/422, record faults on the page it serves) -> source hooks (after a 2xx answer)

Every answer carries the four rate-limit headers except the fault plan's header-less 429s and
reset connections; a quota 429 adds `X-Retry-After`. The fault plan's source kinds run once
while the app is built (`Store`); the store quota counts the other app a `shared_quota` entry
puts on the store. `/_sandbox/stats` (no auth, outside the store) shows what the server saw.
"""

from __future__ import annotations

import asyncio
import hmac
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from aiohttp import web

from sandbox.bigcommerce.data import Dataset, DatasetSize
from sandbox.bigcommerce.endpoints import ROUTES, STORE, Store, json_response
from sandbox.bigcommerce.faults import Delay, FaultPlan, Reset, Respond, SourceState, Truncate
from sandbox.bigcommerce.listing import ApiError
from sandbox.bigcommerce.ratelimit import FixedWindowLimiter
from sandbox.bigcommerce.repeat import repeat_orders


def _this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(kw_only=True)
class SandboxConfig:
    """Everything that defines a sandbox run. The same config always serves the same data.

    `fault_plan` is stateful (its generator and request counts advance as it is used): give
    each server its own plan when runs must be reproducible.
    """

    access_token: str = field(repr=False)
    store_hash: str = "sandbox"
    seed: int = 42
    size: DatasetSize = field(default_factory=lambda: DatasetSize.scaled(500))
    anchor: datetime = field(default_factory=_this_hour)
    quota: int = 150
    window_ms: int = 30_000
    fault_plan: FaultPlan = field(default_factory=FaultPlan.empty)
    # Draw only this many orders and serve `size.orders` made from them (`repeat.py`), so a
    # scale benchmark gets a million orders in seconds; 0 draws every order.
    drawn_orders: int = 0

    def __post_init__(self) -> None:
        if not self.access_token:
            raise ValueError("the sandbox needs an access token to check X-Auth-Token against")
        if self.drawn_orders and any(f.kind.layer == "source" for f in self.fault_plan.faults):
            raise ValueError("repeated orders take no source faults: those edit drawn records")

    def generate(self) -> Dataset:
        """The dataset this config serves."""
        if not 0 < self.drawn_orders < self.size.orders:
            return Dataset.generate(self.seed, self.size, self.anchor)
        drawn = replace(self.size, orders=self.drawn_orders)
        return repeat_orders(Dataset.generate(self.seed, drawn, self.anchor), self.size.orders)


@dataclass
class Stats:
    """What the server saw since start (or the last reset), for tests and benchmarks."""

    requests_by_stream: Counter[str] = field(default_factory=Counter)
    responses_by_status: Counter[int] = field(default_factory=Counter)
    quota_429: int = 0
    injected_429: int = 0
    server_errors: int = 0
    resets: int = 0
    truncated: int = 0

    def as_json(self, limiter: FixedWindowLimiter, source: SourceState) -> dict:
        windows, theirs = limiter.admitted_per_window(), limiter.other_app_per_window()
        return {
            "requests_by_stream": dict(self.requests_by_stream),
            "responses_by_status": {str(k): v for k, v in sorted(self.responses_by_status.items())},
            "quota_429": self.quota_429, "injected_429": self.injected_429,
            "server_errors": self.server_errors, "resets": self.resets,
            "truncated": self.truncated, "admitted_per_window": windows,
            "max_admitted_in_window": max(windows, default=0),
            "quota": limiter.quota, "window_ms": limiter.window_ms,
            # The bound a client really had is sum(quota - other) over the windows.
            "other_app_share": limiter.other_share, "other_app_requests": sum(theirs),
            "other_app_per_window": theirs,
            "modified": {stream: sorted(ids) for stream, ids in source.modified.items()},
            "deleted_orders": sorted(source.deleted_orders),
            "deleted_order_404": source.deleted_order_404,
            "many_lines_orders": sorted(source.many_lines_orders),
        }


@dataclass
class Sandbox:
    config: SandboxConfig
    store: Store
    limiter: FixedWindowLimiter
    stats: Stats = field(default_factory=Stats)
    streams: dict = field(default_factory=dict)  # handler -> stream name


SANDBOX = web.AppKey("sandbox", Sandbox)


def build_app(config: SandboxConfig, dataset: Dataset | None = None) -> web.Application:
    """The aiohttp application; `dataset` skips generation when the caller already has it."""
    dataset = dataset or config.generate()
    store = Store(dataset, config.store_hash, config.fault_plan)
    limiter = FixedWindowLimiter(config.quota, config.window_ms,
                                 other_share=store.source.other_app_share)
    sandbox = Sandbox(config, store, limiter)
    app = web.Application(middlewares=[_gateway])
    app[SANDBOX], app[STORE] = sandbox, store
    for stream, path, handler in ROUTES:
        app.router.add_get(f"/stores/{{store_hash}}/{path}", handler)
        sandbox.streams[handler] = stream
    app.router.add_get("/_sandbox/stats", _stats)
    app.router.add_post("/_sandbox/stats/reset", _reset_stats)
    return app


async def _stats(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    return json_response(sandbox.stats.as_json(sandbox.limiter, sandbox.store.source))


async def _reset_stats(request: web.Request) -> web.Response:
    """Zero the counters and forget closed quota windows (the open window keeps counting).

    What the source kinds did to the data (modified, deleted, many-lines ids) is kept.
    """
    sandbox = request.app[SANDBOX]
    sandbox.stats = Stats()
    sandbox.store.source.deleted_order_404 = 0
    sandbox.limiter.reset_history()
    return json_response(sandbox.stats.as_json(sandbox.limiter, sandbox.store.source))


@web.middleware
async def _gateway(request: web.Request, handler) -> web.StreamResponse:
    if not request.path.startswith("/stores/"):
        return await handler(request)
    sandbox = request.app[SANDBOX]
    stream = sandbox.streams.get(request.match_info.handler, "unknown")
    sandbox.stats.requests_by_stream[stream] += 1
    response = await _gate(request, handler, sandbox, stream)
    if response is not None:
        sandbox.stats.responses_by_status[response.status] += 1
        return response
    return web.Response()  # the connection is already gone: this is never written


async def _gate(request: web.Request, handler, sandbox: Sandbox,
                stream: str) -> web.StreamResponse | None:
    """The answer to one store request, or None when the connection was reset instead."""
    config, limiter, stats = sandbox.config, sandbox.limiter, sandbox.stats
    if request.path.split("/")[2] != config.store_hash:
        return _error(request, 404, "Store not found", limiter.peek())
    token = request.headers.get("X-Auth-Token", "")
    if not hmac.compare_digest(token.encode(), config.access_token.encode()):
        return _error(request, 401, "Unauthorized: missing or invalid X-Auth-Token", limiter.peek())
    admission = limiter.admit()
    if not admission.allowed:
        stats.quota_429 += 1
        return _error(request, 429, "Too many requests: the store quota is spent",
                      admission.headers)

    actions = config.fault_plan.transport_actions(stream) if stream != "unknown" else []
    delay = sum(a.seconds for a in actions if isinstance(a, Delay))
    if delay:
        await asyncio.sleep(delay)
    ending = next((a for a in actions if isinstance(a, Respond | Reset)), None)
    if isinstance(ending, Reset):
        stats.resets += 1
        _abort_connection(request)
        return None
    if isinstance(ending, Respond):
        setattr(stats, ending.counter, getattr(stats, ending.counter) + 1)
        return _error(request, ending.status, ending.title,
                      admission.headers if ending.rate_limit_headers else {})

    try:
        response = await handler(request)
    except ApiError as exc:
        response = json_response(exc.body(), exc.status)
    except web.HTTPException as exc:  # no such path or method under the store
        response = _error(request, exc.status, exc.reason, {})
    if response.status < 300 and stream != "unknown":
        sandbox.store.answered(stream)  # after the body is rendered: this page is as it was
    if any(isinstance(a, Truncate) for a in actions) and response.status == 200:
        body = response.body
        if isinstance(body, bytes) and body:
            stats.truncated += 1
            # Cut mid-JSON; Content-Length follows the cut body, so only parsing fails.
            response = web.Response(body=body[: len(body) // 2], content_type="application/json")
    response.headers.update(admission.headers)
    return response


def _error(request: web.Request, status: int, title: str,
           headers: dict[str, str]) -> web.Response:
    """An error in the shape of the API version asked: v2 `[{status, message}]`, else v3."""
    v2 = "/v2/" in request.path
    response = json_response(ApiError(status, title, v2=v2).body(), status)
    response.headers.update(headers)
    return response


def _abort_connection(request: web.Request) -> None:
    """Drop the TCP connection with a RST and no HTTP response, like a crashing proxy."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:  # linger 0 makes close() send RST instead of an orderly FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
