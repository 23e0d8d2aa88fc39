"""Pace requests from BigCommerce's rate-limit headers, so the quota is used but never exceeded.

BigCommerce counts requests per store in a fixed window (150 per 30 s on Standard plans) and
reports, on every response, how many requests are left and how long until the window resets.
The pacer keeps a local estimate of the requests left: it spends one permit per request sent
and re-reads the truth from each response. Requests still in flight when a response arrives
may not have been counted by the server yet, so only those sent *after* the answered request
are subtracted from the header's figure; that keeps the estimate honest without wasting a
permit per concurrent request.

A 429 *without* rate-limit headers means platform load rather than quota: the whole client
pauses with exponential backoff and jitter instead of hammering a struggling API.
"""

from __future__ import annotations

import asyncio
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

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> QuotaReading | None:
        try:
            return cls(int(headers[LEFT]), int(headers[RESET_MS]) / 1000, int(headers[QUOTA]))
        except (KeyError, ValueError):
            return None


class QuotaPacer:
    """Hands out one permit per request; waits for the window to reset when none is left."""

    def __init__(self) -> None:
        self._left: int | None = None  # unknown until the first response
        self._quota: int | None = None
        self._reset_at = 0.0
        self._pause_until = 0.0
        self._sent = 0  # sequence number of the last request sent
        self._newest_seen = -1  # sequence number behind the freshest reading applied
        self._in_flight: set[int] = set()
        self.waited_s = 0.0

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
            if self._left is not None and now >= self._reset_at and self._quota is not None:
                # The window has rolled over; requests still in flight may land in the new one.
                self._left = self._quota - len(self._in_flight)
                self._reset_at = float("inf")  # unknown until the next reading
            if self._left is None or self._left > 0:
                if self._left is not None:
                    self._left -= 1
                self._sent += 1
                self._in_flight.add(self._sent)
                return self._sent
            await self._sleep(max(self._reset_at - now, 0.0) + 0.005)

    def observe(self, sequence: int, reading: QuotaReading | None) -> None:
        """Apply a response's headers (or their absence) and free the request's slot."""
        self._in_flight.discard(sequence)
        if reading is None:
            return
        now = self._now()
        reset_at = now + reading.reset_s
        new_window = self._reset_at == float("inf") or reset_at > self._reset_at + 0.05
        if sequence < self._newest_seen and not new_window:
            return  # an older answer than one already applied carries staler figures
        self._newest_seen = max(self._newest_seen, sequence)
        sent_after = sum(1 for s in self._in_flight if s > sequence)
        self._quota = reading.quota
        self._left = max(reading.left - sent_after, 0)
        self._reset_at = reset_at

    def release(self, sequence: int) -> None:
        """Free a request's slot when it ended without any response (reset, timeout)."""
        self._in_flight.discard(sequence)

    def exhausted(self, reading: QuotaReading) -> None:
        """A 429 with headers: nothing is left until the window resets."""
        self._left = 0
        self._quota = reading.quota
        self._reset_at = self._now() + reading.reset_s

    def pause(self, failures: int, base_s: float, cap_s: float) -> float:
        """Back off everyone after a header-less 429 (full jitter); returns the delay chosen."""
        delay = random.uniform(0, min(cap_s, base_s * 2 ** (failures - 1)))
        self._pause_until = max(self._pause_until, self._now() + delay)
        return delay

    async def _sleep(self, seconds: float) -> None:
        self.waited_s += seconds
        await asyncio.sleep(seconds)
