"""The store's request quota as BigCommerce enforces it: a fixed window per store.

A window opens with the first request after the previous one expired and admits `quota`
requests; the rest get 429 until it closes. Rejected requests do not consume quota. Every
response reports the window through four headers, which is what a well-behaved client paces
itself by. The limiter also keeps how many requests each window admitted, so tests can prove
"the quota is never exceeded" from the server's side.
"""

from __future__ import annotations

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
    ) -> None:
        if quota < 1 or window_ms < 1:
            raise ValueError("quota and window_ms must be positive")
        self.quota, self.window_ms = quota, window_ms
        self._clock = clock or (lambda: time.monotonic() * 1000)
        self._window_start: float | None = None
        self._admitted = 0
        self._closed_windows: list[int] = []

    def admit(self) -> Admission:
        """Count a request against the quota (if any is left) and say whether it may proceed."""
        now = self._clock()
        if self._window_start is None or now >= self._window_start + self.window_ms:
            if self._window_start is not None:
                self._closed_windows.append(self._admitted)
            self._window_start, self._admitted = now, 0
        allowed = self._admitted < self.quota
        if allowed:
            self._admitted += 1
        return Admission(allowed, self._headers(now))

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
        return [*self._closed_windows, *open_window]

    def reset_history(self) -> None:
        """Forget closed windows; the open one keeps counting so the quota stays honest."""
        self._closed_windows.clear()
