"""Resident memory of every process this one starts, sampled from /proc, for `bench scale`.

Under the multiprocess executor each step is a process of its own, and the dbt step starts dbt
as a process of its own too, so no single `getrusage` call sees a step: `RUSAGE_CHILDREN` gives
only the largest child that has already exited. A thread here walks this process's
descendants (`/proc/<pid>/task/<tid>/children`) every `interval` seconds and keeps each one's
`VmRSS`; a step's memory at a moment is the sum over its process and that process's
descendants. Sampling can miss a spike shorter than the interval, so a step's peak also takes
its own process's `VmHWM` (the kernel's exact high-water mark), read until the process ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:  # the process ended while we looked
        pass
    return found


def _cmdline(pid: int) -> str | None:
    try:
        return (PROC / str(pid) / "cmdline").read_text().replace("\0", " ").strip()
    except OSError:
        return None


def _status_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in KiB, or None once the process is gone (or a zombie with no memory)."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line[:5]] = int(line.split()[1])
    if "VmRSS" not in values:
        return None
    return values["VmRSS"], values.get("VmHWM", values["VmRSS"])


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU the process has used so far."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def available_mb() -> float:
    text = (PROC / "meminfo").read_text()
    return next(int(line.split()[1]) for line in text.splitlines()
                if line.startswith("MemAvailable:")) / 1024


@dataclass
class Tick:
    at: float  # time.time(), the clock Dagster stamps its events with
    rss_kb: dict[int, int]
    cpu_s: dict[int, float]


@dataclass
class TreeSampler:
    """Samples the descendants of `root` (this process by default) while in its `with`."""

    interval: float = 0.1
    root: int = field(default_factory=os.getpid)
    ticks: list[Tick] = field(default_factory=list)
    parent: dict[int, int] = field(default_factory=dict)
    hwm_kb: dict[int, int] = field(default_factory=dict)
    command: dict[int, str] = field(default_factory=dict)  # once the process has exec'd
    # On a shared machine a run that would exhaust memory is stopped instead: every process
    # below `root` except `spare` is killed once less than `guard_mb` is left available.
    guard_mb: float = 0.0
    spare: frozenset[int] = frozenset()
    stopped_for_memory: str | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _descendants(self) -> Iterator[int]:
        pending = [self.root]
        while pending:
            pid = pending.pop()
            for child in _children(pid):
                self.parent[child] = pid
                pending.append(child)
                yield child

    def _loop(self) -> None:
        while not self._stopping.is_set():
            at, rss, cpu = time.time(), {}, {}
            for pid in self._descendants():
                if not self._execd(pid):
                    continue
                status, used = _status_kb(pid), cpu_seconds(pid)
                if status is not None and used is not None:
                    rss[pid], cpu[pid] = status[0], used
                    self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), status[1])
            self.ticks.append(Tick(at, rss, cpu))
            if self.guard_mb and self.stopped_for_memory is None:
                self._guard(rss)
            self._stopping.wait(self.interval)

    def _guard(self, rss: dict[int, int]) -> None:
        left = available_mb()
        if left >= self.guard_mb:
            return
        self.stopped_for_memory = (f"stopped: {left:,.0f} MB left available on the machine "
                                   f"(guard {self.guard_mb:,.0f} MB)")
        for pid in rss:
            if pid not in self.spare:
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    os.kill(pid, signal.SIGKILL)

    def _execd(self, pid: int) -> bool:
        """A child between fork and exec shows its parent's pages as its own resident memory
        (copy-on-write, or vfork's shared image): it is counted only once its command line
        differs from its parent's, i.e. once it runs a program of its own."""
        if pid in self.command:
            return True
        mine, theirs = _cmdline(pid), _cmdline(self.parent.get(pid, self.root))
        if not mine or mine == theirs:
            return False
        self.command[pid] = mine
        return True

    def tree(self, pid: int) -> set[int]:
        """`pid` and every process seen below it."""
        members, grew = {pid}, True
        while grew:
            more = {child for child, parent in self.parent.items() if parent in members}
            grew = not more <= members
            members |= more
        return members

    def peak_mb(self, pid: int, start: float, end: float) -> float:
        """The largest sampled sum of the tree's resident memory between `start` and `end`."""
        members = self.tree(pid)
        sums = [sum(kb for p, kb in tick.rss_kb.items() if p in members)
                for tick in self.ticks if start <= tick.at <= end]
        return max(sums, default=0) / 1024

    def step_peak_mb(self, pid: int) -> float:
        """The tree's sampled peak over its whole life, or the step process's own exact
        high-water mark if that is higher (a spike between two samples)."""
        return max(self.peak_mb(pid, 0.0, float("inf")), self.hwm_kb.get(pid, 0) / 1024)

    def cpu_between(self, pid: int, start: float, end: float) -> float:
        """CPU seconds `pid` used between two moments, as far as the samples tell."""
        seen = [tick.cpu_s[pid] for tick in self.ticks
                if start <= tick.at <= end and pid in tick.cpu_s]
        return seen[-1] - seen[0] if seen else 0.0

    def lifetime(self, pid: int) -> tuple[float, float] | None:
        """First and last sample `pid` was seen alive in."""
        seen = [tick.at for tick in self.ticks if pid in tick.rss_kb]
        return (seen[0], seen[-1]) if seen else None
