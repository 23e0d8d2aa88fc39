"""Where the store's quota estimate lives: in this process, or in a file every process shares.

BigCommerce counts requests per store, not per client. The extraction steps of one run are
separate processes under Dagster's multiprocess executor, and each one pacing as if it were
alone spends the quota twice over (two clients reading customers and orders at once drew 36
quota 429s). So the pacer keeps its state (what the store said is left, which requests are in
flight, when the window resets) in a `Ledger`: `MemoryLedger` for one process, `FileLedger` for
every process of a machine, one JSON file per store guarded by an exclusive `flock`. Each
transaction holds the lock for microseconds: read, decide, write back.

Times are `time.monotonic()`, which on Linux is one clock for every process of the machine.
A process that dies mid-request leaves its in-flight entries behind; they are dropped once the
process is gone or the entry is older than `STALE_AFTER_S`, so a crash never shrinks the quota
for good.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

STALE_AFTER_S = 120.0
UNKNOWN = float("inf")  # a reset time nobody has reported yet


@dataclass
class QuotaState:
    """The shared picture of one store's quota window; see `pacing.QuotaPacer` for its use."""

    quota: int | None = None  # unknown until the first answer
    left: int | None = None  # permits this machine may still send in the window
    reported_left: int = 0  # the fewest requests-left the store reported in this window
    reset_at: float = UNKNOWN
    pause_until: float = 0.0  # everyone waits until then (platform-load 429s, quota 429s)
    sent: int = 0  # sequence number of the last request sent, machine-wide
    rolled_over_at: int = 0  # last sequence sent before the window was assumed to reset
    # Requests other apps of the store spend per window, learned from 429s that still report
    # requests left: the store's quota is shared, and what they take is not ours to send.
    reserved: int = 0
    throttled_in_window: bool = False
    in_flight: dict[str, list[float]] = field(default_factory=dict)  # seq -> [pid, sent at]

    def drop_stale(self, now: float) -> None:
        for seq, (pid, sent_at) in list(self.in_flight.items()):
            if now - sent_at > STALE_AFTER_S or sent_at > now or not _alive(int(pid)):
                del self.in_flight[seq]


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


class MemoryLedger:
    """The state of one process's pacer, with nothing shared."""

    shared = False

    def __init__(self) -> None:
        self._state = QuotaState()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[QuotaState]:
        yield self._state


class FileLedger:
    """The state of every pacer of one store on this machine, in `path`."""

    shared = True

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"FileLedger({str(self.path)!r})"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[QuotaState]:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fd = self._fd
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            state = self._read(fd)
            yield state
            payload = json.dumps(asdict(state)).encode()
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, payload)
            os.ftruncate(fd, len(payload))
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @staticmethod
    def _read(fd: int) -> QuotaState:
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        try:
            raw = json.loads(b"".join(chunks) or b"{}")
            state = QuotaState(**raw)
        except (ValueError, TypeError):  # torn by a crash mid-write, or an older layout
            return QuotaState()
        now = time.monotonic()
        # A reset further away than any window can be is from before a reboot.
        if state.reset_at != UNKNOWN and state.reset_at - now > 3600:
            return QuotaState()
        state.drop_stale(now)
        return state

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


Ledger = MemoryLedger | FileLedger
