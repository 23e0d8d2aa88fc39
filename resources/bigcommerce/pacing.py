"""Pace requests from BigCommerce's rate-limit headers, so the quota is used but never exceeded.

BigCommerce counts requests per store in a fixed window (150 per 30 s on Standard plans) and
reports, on every response, how many requests are left and how long until the window resets.
The pacer spends one permit per request sent and re-derives its estimate from each answer:

    left = (fewest requests-left reported in this window) - reserved - (requests in flight)

The fewest reported is the freshest figure (answers can arrive out of order), and every request
still in flight may already have been counted, so the estimate never exceeds the truth; as the
answers come in it converges to it, so the whole quota is used. When the window's reset time
passes the pacer assumes a fresh quota, minus what is still in flight, and ignores late answers
to requests sent before that moment, which describe the old window.

The quota is shared by every app on the store. A 429 that carries the rate-limit headers means
the window is spent, whatever `Requests-Left` says (BigCommerce's own example shows 35 left:
other apps spent them), so everyone waits for the reset; the requests it still reported left
are `reserved` for the other apps from then on, decaying by a tenth each window that passes
without a 429, so the pacer learns the quota it really gets and stops drawing 429s.

A 429 *without* rate-limit headers means platform load rather than quota: every client pauses
with exponential backoff and jitter instead of hammering a struggling API.

The state lives in a `Ledger` (see `ledger.py`): per process, or shared by every process of
the machine through a file, so the extraction steps of one run draw from one store budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from resources.bigcommerce.ledger import UNKNOWN, Ledger, MemoryLedger, QuotaState

WINDOW_MS = "X-Rate-Limit-Time-Window-Ms"
RESET_MS = "X-Rate-Limit-Time-Reset-Ms"
QUOTA = "X-Rate-Limit-Requests-Quota"
LEFT = "X-Rate-Limit-Requests-Left"
RETRY_AFTER = "X-Retry-After"
SHARED_POLL_S = 0.02  # how often a waiting pacer looks whether another process freed a permit


@dataclass(frozen=True)
class QuotaReading:
    """The rate-limit headers of one response."""

    left: int
    reset_s: float
    quota: int
    window_s: float

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> QuotaReading | None:
        try:
            return cls(
                int(headers[LEFT]),
                int(headers[RESET_MS]) / 1000,
                int(headers[QUOTA]),
                int(headers[WINDOW_MS]) / 1000,
            )
        except (KeyError, ValueError):
            return None


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """`X-Retry-After` in seconds, when the answer carries a valid one."""
    try:
        value = float(headers[RETRY_AFTER])
    except (KeyError, ValueError):
        return None
    return value if value >= 0 else None


class QuotaPacer:
    """Hands out one permit per request; waits for the window to reset when none is left."""

    def __init__(self, ledger: Ledger | None = None) -> None:
        self.ledger = ledger or MemoryLedger()
        self._changed = asyncio.Event()  # set whenever an answer here may have freed a permit
        self.waited_s = 0.0  # summed over waiting requests
        self.quota_429 = 0
        self._open: set[int] = set()  # sent from here and not answered yet

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    async def acquire(self) -> int:
        """Wait for a permit; returns the request's sequence number for `observe`/`release`."""
        while True:
            with self.ledger.transaction() as state:
                now = self._now()
                wait = self._take(state, now)
                if wait is None:
                    state.in_flight[str(state.sent)] = [os.getpid(), now]
                    self._open.add(state.sent)
                    return state.sent
            if self.ledger.shared:  # another process's answer may free a permit at any time
                wait = min(wait, SHARED_POLL_S)
            await self._wait_for_change(wait)

    @staticmethod
    def _take(state: QuotaState, now: float) -> float | None:
        """Take a permit (None) or say how long to wait before looking again."""
        if now < state.pause_until:
            return state.pause_until - now
        if state.quota is not None and now >= state.reset_at:
            # The window has rolled over; requests still in flight may land in the new one.
            if not state.throttled_in_window:
                state.reserved = state.reserved * 9 // 10
            state.throttled_in_window = False
            state.reported_left = state.quota
            state.left = state.quota - state.reserved - len(state.in_flight)
            state.reset_at = UNKNOWN  # until the next answer
            state.rolled_over_at = state.sent
        if state.left is None or state.left > 0:
            if state.left is not None:
                state.left -= 1
            state.sent += 1
            return None
        # Wake at the reset, or earlier when an answer shows the estimate was too cautious.
        return (state.reset_at - now if state.reset_at != UNKNOWN else 0.05) + 0.005

    def observe(self, sequence: int, reading: QuotaReading | None) -> None:
        """Apply an answer's headers (not a quota 429's: see `throttled`); free its slot."""
        self._open.discard(sequence)
        with self.ledger.transaction() as state:
            entry = state.in_flight.pop(str(sequence), None)
            if reading is None or sequence <= state.rolled_over_at:
                return
            now = self._now()
            reset_at = now + reading.reset_s
            # The store counted the request between its sending and its answer, so the window
            # it reports resets no earlier than `sent_at + reset`. Only that bound tells a new
            # window apart: an answer read late (a busy event loop, a contended CPU) looks
            # like one by its arrival and would restore a stale, higher requests-left.
            earliest = (entry[1] if entry else now) + reading.reset_s
            tolerance = reading.window_s / 4
            if state.reset_at == UNKNOWN or earliest > state.reset_at + tolerance:
                state.reported_left = reading.left  # the first answer from a new window
                state.reset_at = reset_at
            elif reset_at < state.reset_at - tolerance:
                return  # an answer from an older window
            else:
                state.reported_left = min(state.reported_left, reading.left)
                # Every estimate is the true reset plus the time the answer took to reach us,
                # so each is late, never early: the earliest is the closest to the truth.
                state.reset_at = min(state.reset_at, reset_at)
            state.quota = reading.quota
            state.left = max(state.reported_left - state.reserved - len(state.in_flight), 0)
        self._notify()

    def throttled(self, sequence: int, reading: QuotaReading, retry_after: float | None) -> float:
        """A quota 429: nobody sends until the window resets; returns the wait chosen."""
        wait = reading.reset_s or retry_after or reading.window_s
        self._open.discard(sequence)
        with self.ledger.transaction() as state:
            state.in_flight.pop(str(sequence), None)
            now = self._now()
            state.quota = reading.quota
            # Requests the store still reports left went to other apps: keep them theirs.
            state.reserved = min(max(state.reserved, reading.left), reading.quota - 1)
            state.throttled_in_window = True
            state.left = 0
            state.reset_at = max(now + wait, state.reset_at if state.reset_at != UNKNOWN else 0)
            state.rolled_over_at = state.sent  # answers to requests sent so far are old news
        self.quota_429 += 1
        self._notify()
        return wait

    def release(self, sequence: int) -> None:
        """Free a request's slot when it ended without any answer (reset, timeout, cancel)."""
        if sequence not in self._open:
            return
        self._open.discard(sequence)
        with self.ledger.transaction() as state:
            state.in_flight.pop(str(sequence), None)
        self._notify()

    def pause(self, failures: int, base_s: float, cap_s: float) -> float:
        """Back off everyone after a header-less 429 (full jitter); returns the delay chosen."""
        delay = random.uniform(0, min(cap_s, base_s * 2 ** (failures - 1)))
        with self.ledger.transaction() as state:
            state.pause_until = max(state.pause_until, self._now() + delay)
        return delay

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_for_change(self, seconds: float) -> None:
        started = self._now()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)
        self.waited_s += self._now() - started
