"""An async BigCommerce REST client that streams pages within the store's rate limit.

Requests run concurrently (bounded by `concurrency`), each one waits for a permit from the
`QuotaPacer`, and every transient failure (429, 5xx, timeouts, connection resets, bodies cut
short) is retried with exponential backoff and jitter, a bounded number of times. Anything
else raises `BigCommerceError` naming the endpoint and the status, never the token.

Pages are yielded in order while later pages are already in flight, so memory holds at most
`concurrency` pages however long the stream is.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson  # a 250-order page parses in a quarter of the standard library's time

from resources.bigcommerce.ledger import FileLedger, Ledger
from resources.bigcommerce.pacing import QuotaPacer, QuotaReading, retry_after_s

if TYPE_CHECKING:
    # Imported where a client starts (about 0.2 s): loading the code location needs none of it.
    import aiohttp

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_QUOTA_WAITS = 50


class BigCommerceError(RuntimeError):
    """A request that cannot succeed: a client error, or a transient one retried to the limit."""


@dataclass
class ClientStats:
    """What a stream cost; reported in each extraction asset's metadata."""

    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    malformed_bodies: int = 0
    bytes: int = 0
    gone: list[str] = field(default_factory=list)  # sub-resources answered 404/410
    started: float = field(default_factory=time.monotonic)

    def as_metadata(self) -> dict[str, int | float]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "throttled_429": self.throttled_429,
            "server_errors": self.server_errors,
            "connection_errors": self.connection_errors,
            "malformed_bodies": self.malformed_bodies,
            "bytes": self.bytes,
            "subresources_gone": len(self.gone),
        }


@dataclass(frozen=True)
class Page:
    """One answered request: its records (empty for a 204) and where it came from."""

    path: str
    number: int
    records: list[Any]
    total_pages: int | None = None


class BigCommerceClient:
    """Use as `async with BigCommerceClient(...) as client:`; one client per store and run."""

    def __init__(
        self,
        base_url: str,
        store_hash: str,
        access_token: str,
        *,
        concurrency: int = 8,
        max_retries: int = 6,
        timeout_s: float = 30.0,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        ledger: Ledger | None = None,
    ) -> None:
        self._root = f"{base_url.rstrip('/')}/stores/{store_hash}"
        self._headers = {
            "X-Auth-Token": access_token,
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "commerce-governance/0.1 (+dagster)",
        }
        self._slots = asyncio.Semaphore(concurrency)
        self.concurrency = concurrency
        self._max_retries = max_retries
        self._timeout_s = timeout_s
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._session: aiohttp.ClientSession | None = None
        self.pacer = QuotaPacer(ledger)
        self.stats = ClientStats()

    async def __aenter__(self) -> BigCommerceClient:
        import aiohttp

        self._session = aiohttp.ClientSession(
            headers=self._headers, timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            raise_for_status=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        if isinstance(self.pacer.ledger, FileLedger):
            self.pacer.ledger.close()

    def __repr__(self) -> str:  # the token must never reach a log line
        return f"BigCommerceClient({self._root!r})"

    async def get(
        self, path: str, params: dict[str, Any] | None = None, *,
        tolerate: frozenset[int] = frozenset(),
    ) -> tuple[int, Any]:
        """GET `path` (relative to the store, e.g. `v3/customers`); returns (status, JSON).

        Transient failures are retried up to `max_retries` times. A quota 429 is not a failure
        (other apps share the store's quota): the pacer holds every request until the window
        resets, and the wait does not spend a retry, up to `MAX_QUOTA_WAITS` times. A status in
        `tolerate` (e.g. 404 for a sub-resource that is gone) is returned instead of raised.
        """
        import aiohttp

        assert self._session is not None, "use the client inside `async with`"
        failures = quota_waits = 0
        reason = "no attempt made"
        while failures <= self._max_retries and quota_waits <= MAX_QUOTA_WAITS:
            if failures or quota_waits:
                self.stats.retries += 1
            try:
                status, body, quota_429 = await self._paced_send(path, params)
            except (TimeoutError, aiohttp.ClientError) as error:
                self.stats.connection_errors += 1
                reason = type(error).__name__
                failures += 1
                await self._backoff_sleep(failures)
                continue
            self.stats.bytes += len(body)
            if quota_429:  # the pacer has read its headers and holds everyone until the reset
                self.stats.throttled_429 += 1
                quota_waits += 1
                reason = "429 Too Many Requests (quota)"
                continue
            if status in TRANSIENT_STATUSES:
                self.stats.throttled_429 += status == 429
                self.stats.server_errors += status != 429
                reason = f"HTTP {status}"
                failures += 1
                if status == 429:  # no headers: platform load, so everyone backs off
                    await asyncio.sleep(self.pacer.pause(failures, *self._backoff))
                else:
                    await self._backoff_sleep(failures)
                continue
            if status == 204:
                return status, None
            if status in tolerate:
                return status, None
            if status >= 400:
                raise BigCommerceError(f"GET {path} answered HTTP {status}: {_error_title(body)}")
            try:
                return status, orjson.loads(body)
            except ValueError:
                self.stats.malformed_bodies += 1
                reason = f"malformed JSON body ({len(body)} bytes)"
                failures += 1
                await self._backoff_sleep(failures)
        raise BigCommerceError(
            f"GET {path} gave up after {failures} failures and {quota_waits} quota waits; "
            f"last: {reason}"
        )

    async def _paced_send(
        self, path: str, params: dict[str, Any] | None
    ) -> tuple[int, bytes, bool]:
        """One HTTP exchange: a concurrency slot, then a quota permit, then the request.

        Returns (status, body, whether it was a quota 429, i.e. a 429 with rate-limit headers).
        """
        assert self._session is not None
        async with self._slots:
            sequence = await self.pacer.acquire()
            try:
                self.stats.requests += 1
                url = f"{self._root}/{path}"
                async with self._session.get(url, params=params) as response:
                    body = await response.read()
                    reading = QuotaReading.from_headers(response.headers)
                    quota_429 = response.status == 429 and reading is not None
                    if quota_429:
                        self.pacer.throttled(sequence, reading, retry_after_s(response.headers))
                    else:
                        self.pacer.observe(sequence, reading)
                    return response.status, body, quota_429
            finally:
                self.pacer.release(sequence)  # no-op once observed; frees it on errors/cancel

    async def _backoff_sleep(self, failures: int) -> None:
        base, cap = self._backoff
        await asyncio.sleep(random.uniform(0, min(cap, base * 2 ** (failures - 1))))

    async def iter_v3(
        self, path: str, params: dict[str, Any] | None = None, *, limit: int = 250
    ) -> AsyncIterator[Page]:
        """Every page of a v3 list, in order; later pages are fetched while earlier ones yield."""
        query = {**(params or {}), "limit": limit, "page": 1}
        _, first = await self.get(path, query)
        data, total_pages = _v3_page(path, first)
        yield Page(path, 1, data, total_pages)
        numbers = range(2, total_pages + 1)
        async for number, body in self._ordered(path, query, numbers):
            data, _ = _v3_page(path, body)
            yield Page(path, number, data, total_pages)

    async def iter_v2(
        self, path: str, params: dict[str, Any] | None = None, *, limit: int = 250
    ) -> AsyncIterator[Page]:
        """Every page of a v2 list: v2 has no totals, so it reads ahead until a short page."""
        query = {**(params or {}), "limit": limit}
        ahead = count_from(1)
        async for number, body in self._ordered(path, query, ahead, ramp=True):
            records = body or []  # 204 No Content past the last page
            if not isinstance(records, list):
                raise BigCommerceError(f"GET {path} page {number}: expected a JSON array")
            if records:
                yield Page(path, number, records)
            if len(records) < limit:
                return

    async def _ordered(
        self, path: str, query: dict[str, Any], numbers: Iterable[int], *, ramp: bool = False
    ) -> AsyncIterator[tuple[int, Any]]:
        """Fetch pages `numbers` with up to `concurrency` in flight; yield them in order.

        A list of known length reads `2 * concurrency` pages ahead, so a slow page at the head
        never leaves a request slot idle. With `ramp` (a list of unknown length) read-ahead
        starts at one page and doubles with each answer up to `concurrency`, so a short list
        costs no speculative requests past its end.
        """
        pending: list[tuple[int, asyncio.Task]] = []
        numbers = iter(numbers)
        depth, most = (1, self.concurrency) if ramp else (2 * self.concurrency,) * 2
        try:
            while True:
                while len(pending) < depth:
                    number = next(numbers, None)
                    if number is None:
                        break
                    task = asyncio.create_task(self.get(path, {**query, "page": number}))
                    pending.append((number, task))
                if not pending:
                    return
                number, task = pending.pop(0)
                _, body = await task
                depth = min(2 * depth, most)
                yield number, body
        finally:
            for _, task in pending:  # a consumer that stops early must not leak requests
                task.cancel()
            await asyncio.gather(*(t for _, t in pending), return_exceptions=True)


def _v3_page(path: str, body: Any) -> tuple[list[Any], int]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise BigCommerceError(f"GET {path}: expected a v3 envelope with a `data` list")
    pagination = body.get("meta", {}).get("pagination", {})
    return body["data"], int(pagination.get("total_pages") or 1)


def count_from(start: int) -> Iterable[int]:
    number = start
    while True:
        yield number
        number += 1


def _error_title(body: bytes) -> str:
    """What an error body says: v3 `{title}`, v2 `[{message}]`, else its first bytes."""
    try:
        parsed = orjson.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
        return str(parsed[0].get("message", ""))[:200]
    if isinstance(parsed, dict):
        return str(parsed.get("title", ""))[:200]
    return str(parsed)[:200]
