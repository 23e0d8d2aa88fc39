"""The store's request quota as BigCommerce enforces it: a fixed window per store.

A window opens with the first request after the previous one expired and admits `quota`
requests; the rest get 429 until it closes. Rejected requests do not consume quota. Every
response reports the window through four headers, which is what a well-behaved client paces
itself by; a refused one also carries `X-Retry-After` (whole seconds until the reset). The
limiter keeps how many requests each window admitted, so tests can prove "the quota is never
exceeded" from the server's side.

The quota is per store, and other apps on the store spend it too (`other_share`): the other
app spends that share of each window's quota evenly over the window, and a request of ours is
admitted while ours + theirs so far < quota. Theirs is capped by what the store has left (the
platform refuses the other app as well once the quota is spent), so what it spent is what it
got. The headers report what this app has left by its own count (quota - ours), which is why
a 429 can say `X-Rate-Limit-Requests-Left: 35`, as in BigCommerce's own example.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    """The verdict on one request and the rate-limit headers its response must carry."""

    allowed: bool
    headers: dict[str, str]


class FixedWindowLimiter:
    """Fixed-window quota; `clock` returns milliseconds and is injectable for tests."""

    def __init__(
        self,
        quota: int = 150,
        window_ms: int = 30_000,
        clock: Callable[[], float] | None = None,
        other_share: float = 0.0,
    ) -> None:
        if quota < 1 or window_ms < 1:
            raise ValueError("quota and window_ms must be positive")
        if not 0.0 <= other_share < 1.0:
            raise ValueError(f"other_share must be in [0, 1), got {other_share}")
        self.quota, self.window_ms, self.other_share = quota, window_ms, other_share
        self._clock = clock or (lambda: time.monotonic() * 1000)
        self._window_start: float | None = None
        self._admitted = self._theirs = 0
        self._closed_windows: list[tuple[int, int]] = []  # (ours, theirs) per closed window

    def admit(self) -> Admission:
        """Count a request against the quota (if any is left) and say whether it may proceed."""
        now = self._clock()
        if self._window_start is None or now >= self._window_start + self.window_ms:
            if self._window_start is not None:
                self._spend_theirs(self._window_start + self.window_ms)
                self._closed_windows.append((self._admitted, self._theirs))
            self._window_start, self._admitted, self._theirs = now, 0, 0
        self._spend_theirs(now)
        allowed = self._admitted + self._theirs < self.quota
        if allowed:
            self._admitted += 1
        headers = self._headers(now)
        if not allowed:
            headers["X-Retry-After"] = str(math.ceil(int(headers["X-Rate-Limit-Time-Reset-Ms"])
                                                     / 1000))
        return Admission(allowed, headers)

    def _spend_theirs(self, now: float) -> None:
        """Bring the other app's spending of the open window up to `now`."""
        if not self.other_share or self._window_start is None:
            return
        elapsed = min(1.0, (now - self._window_start) / self.window_ms)
        due = int(self.other_share * self.quota * elapsed)
        self._theirs = max(self._theirs, min(due, self.quota - self._admitted))

    def peek(self) -> dict[str, str]:
        """Headers for a response that does not touch the quota (e.g. a 401 before admission)."""
        return self._headers(self._clock())

    def _headers(self, now: float) -> dict[str, str]:
        if self._window_start is None or now >= self._window_start + self.window_ms:
            reset_ms, left = self.window_ms, self.quota  # no window open: a fresh one awaits
        else:
            reset_ms = max(1, round(self._window_start + self.window_ms - now))
            left = self.quota - self._admitted
        return {
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(left),
        }

    def admitted_per_window(self) -> list[int]:
        """Admitted counts of every window since the last reset, the open one last."""
        open_window = [] if self._window_start is None else [self._admitted]
        return [ours for ours, _ in self._closed_windows] + open_window

    def other_app_per_window(self) -> list[int]:
        """What the other app spent in the same windows (the open one: so far)."""
        if self._window_start is not None:
            self._spend_theirs(min(self._clock(), self._window_start + self.window_ms))
        open_window = [] if self._window_start is None else [self._theirs]
        return [theirs for _, theirs in self._closed_windows] + open_window

    def reset_history(self) -> None:
        """Forget closed windows; the open one keeps counting so the quota stays honest."""
        self._closed_windows.clear()
