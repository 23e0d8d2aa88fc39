"""Pace requests from BigCommerce's rate-limit headers, so the quota is used but never exceeded.

BigCommerce counts requests per store in a fixed window (150 per 30 s on Standard plans) and
reports, on every response, how many requests are left and how long until the window resets.
The pacer spends one permit per request sent and re-derives its estimate from each answer:

    left = (fewest requests-left reported in this window) - (requests still in flight)

The fewest reported is the freshest figure (answers can arrive out of order), and every request
still in flight may already have been counted, so the estimate never exceeds the truth; as the
answers come in it converges to it, so the whole quota is used. When the window's reset time
passes the pacer assumes a fresh quota, minus what is still in flight, and ignores late answers
to requests sent before that moment, which describe the old window.

A 429 *without* rate-limit headers means platform load rather than quota: the whole client
pauses with exponential backoff and jitter instead of hammering a struggling API.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping
from dataclasses import dataclass

WINDOW_MS = "X-Rate-Limit-Time-Window-Ms"
RESET_MS = "X-Rate-Limit-Time-Reset-Ms"
QUOTA = "X-Rate-Limit-Requests-Quota"
LEFT = "X-Rate-Limit-Requests-Left"


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


class QuotaPacer:
    """Hands out one permit per request; waits for the window to reset when none is left."""

    def __init__(self) -> None:
        self._left: int | None = None  # unknown until the first answer
        self._quota: int | None = None
        self._reported_left = 0  # the fewest requests-left reported in the current window
        self._reset_at = 0.0
        self._pause_until = 0.0
        self._sent = 0  # sequence number of the last request sent
        self._rolled_over_at = 0  # last sequence sent before the window was assumed to reset
        self._in_flight: set[int] = set()
        self._changed = asyncio.Event()  # set whenever an answer may have freed a permit
        self.waited_s = 0.0  # summed over waiting requests

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    async def acquire(self) -> int:
        """Wait for a permit; returns the request's sequence number for `observe`/`release`."""
        while True:
            now = self._now()
            if now < self._pause_until:
                await self._sleep(self._pause_until - now)
                continue
            if self._quota is not None and now >= self._reset_at:
                # The window has rolled over; requests still in flight may land in the new one.
                self._reported_left = self._quota
                self._left = self._quota - len(self._in_flight)
                self._reset_at = float("inf")  # unknown until the next answer
                self._rolled_over_at = self._sent
            if self._left is None or self._left > 0:
                if self._left is not None:
                    self._left -= 1
                self._sent += 1
                self._in_flight.add(self._sent)
                return self._sent
            # Wake at the reset, or earlier when an answer shows the estimate was too cautious.
            await self._wait_for_change(max(self._reset_at - now, 0.0) + 0.005)

    def observe(self, sequence: int, reading: QuotaReading | None) -> None:
        """Apply an answer's headers (a 429's included) and free the request's slot."""
        self._in_flight.discard(sequence)
        if reading is None or sequence <= self._rolled_over_at:
            return
        reset_at = self._now() + reading.reset_s
        tolerance = reading.window_s / 4
        if reset_at > self._reset_at + tolerance or self._reset_at == float("inf"):
            self._reported_left = reading.left  # the first answer from a new window
            self._reset_at = reset_at
        elif reset_at < self._reset_at - tolerance:
            return  # an answer from an older window
        else:
            self._reported_left = min(self._reported_left, reading.left)
            self._reset_at = max(self._reset_at, reset_at)  # the later estimate is the safe one
        self._quota = reading.quota
        self._left = max(self._reported_left - len(self._in_flight), 0)
        self._changed.set()
        self._changed = asyncio.Event()

    def release(self, sequence: int) -> None:
        """Free a request's slot when it ended without any answer (reset, timeout, cancel)."""
        self._in_flight.discard(sequence)

    def pause(self, failures: int, base_s: float, cap_s: float) -> float:
        """Back off everyone after a header-less 429 (full jitter); returns the delay chosen."""
        delay = random.uniform(0, min(cap_s, base_s * 2 ** (failures - 1)))
        self._pause_until = max(self._pause_until, self._now() + delay)
        return delay

    async def _sleep(self, seconds: float) -> None:
        self.waited_s += seconds
        await asyncio.sleep(seconds)

    async def _wait_for_change(self, seconds: float) -> None:
        started = self._now()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)
        self.waited_s += self._now() - started
