"""The pacer's reading of rate-limit headers, on a clock the test controls.

The quota windows here are BigCommerce's shape compressed: 150 requests per 3 s.
"""

from __future__ import annotations

import asyncio

from resources.bigcommerce.pacing import QuotaPacer, QuotaReading


def _pacer(clock: list[float]) -> QuotaPacer:
    pacer = QuotaPacer()
    pacer._now = lambda: clock[0]  # the instance attribute shadows the static method
    return pacer


def _acquire(pacer: QuotaPacer, n: int) -> list[int]:
    async def take() -> list[int]:
        return [await pacer.acquire() for _ in range(n)]

    return asyncio.run(take())


def _reading(left: int, reset_s: float) -> QuotaReading:
    return QuotaReading(left=left, reset_s=reset_s, quota=150, window_s=3.0)


def _state(pacer: QuotaPacer):
    with pacer.ledger.transaction() as state:
        return state


def test_an_answer_read_late_does_not_restore_a_stale_requests_left():
    clock = [0.0]
    pacer = _pacer(clock)
    first, early, late = _acquire(pacer, 3)  # sent at t=0
    clock[0] = 0.05
    pacer.observe(first, _reading(149, 2.95))
    clock[0] = 0.1
    rest = _acquire(pacer, 137)
    clock[0] = 0.9
    for sequence in rest:  # the store counts them down to 10 left
        pacer.observe(sequence, _reading(150 - sequence, 2.1))
    # The store counted `late` at t=0 (147 left) but its answer is read only at t=1.5: by its
    # arrival it would reset at 4.43 s, more than a quarter window after 3.0 s.
    clock[0] = 1.5
    pacer.observe(late, _reading(147, 2.93))
    state = _state(pacer)
    assert state.reported_left == 10
    assert state.left == 10 - 1  # `early` is still in flight
    assert early in pacer._open


def test_an_answer_from_the_next_window_is_still_recognised():
    clock = [0.0]
    pacer = _pacer(clock)
    (first,) = _acquire(pacer, 1)
    clock[0] = 0.05
    pacer.observe(first, _reading(149, 2.95))
    clock[0] = 2.99
    (straddling,) = _acquire(pacer, 1)
    clock[0] = 3.1  # the store opened a new window at 3.0 with this request
    pacer.observe(straddling, _reading(149, 2.9))
    state = _state(pacer)
    assert state.reported_left == 149
    assert abs(state.reset_at - 6.0) < 1e-9
