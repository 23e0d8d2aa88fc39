"""The lineage outbox: events bound for Marquez wait in a file per Dagster run, and are sent
once the run has finished, so no step waits for Marquez.

Marquez takes 60-120 ms to store an event; a step that POSTs its own events waits that long for
each, and a full run at size 200 took 1.32x as long with Marquez on as with lineage off, even
with Marquez on a core of its own (docs/benchmarks.md). With an outbox, a step only appends its
events to `<outbox>/<Dagster run id>.jsonl` (one `write` per line, so the lines of steps running
side by side never interleave), and whoever sees the run finish ships them: the lineage run
status sensors in a deployment, `python3 run.py main` itself locally.

Shipping keeps each job's events in the order they were written (Marquez keeps the newest run
as the job's current version), sends up to `LANES` jobs side by side, and never raises. Marquez
unreachable (a refused connection, a timeout, a 5xx) stops the shipment after one failure per
lane: what was not delivered stays in the file for the next shipment, so an outage delays
lineage instead of losing it. An event Marquez rejects (4xx) would be rejected again: it is
counted, logged with its job's name, and dropped (the events file still has it).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

from resources.lineage import ENDPOINT, LANES
from resources.marquez_tags import MarquezTagger

LOG = logging.getLogger("commerce_governance.lineage")
SUFFIX = ".jsonl"
T = TypeVar("T")


def deal(items: Sequence[T], count: int, job: Callable[[T], tuple[str, str]]) -> list[list[T]]:
    """`items` dealt into at most `count` lanes, each job's into one and in the order given,
    jobs round-robin in the order they first appear."""
    lane_of: dict[tuple[str, str], int] = {}
    lanes: list[list[T]] = []
    for item in items:
        key = job(item)
        if key not in lane_of:
            lane_of[key] = len(lane_of) % count
            if lane_of[key] == len(lanes):
                lanes.append([])
        lanes[lane_of[key]].append(item)
    return lanes


def run_of(event: Any) -> str:
    """The Dagster run an event belongs to: its parent's run (a step's event), else its own
    (the Dagster run's own START and COMPLETE)."""
    parent = (event.run.facets or {}).get("parent")
    return str(parent.run.runId) if parent is not None else str(event.run.runId)


@dataclass
class OutboxConfig(Config):
    folder: str = ""

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> OutboxConfig:
        return cls(folder=str(params["folder"]))


class OutboxTransport(Transport):
    """Appends each event to its Dagster run's file in the outbox folder."""

    kind = "outbox"
    config_class = OutboxConfig

    def __init__(self, config: OutboxConfig) -> None:
        self.folder = Path(config.folder)

    def emit(self, event: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = (Serde.to_json(event) + "\n").encode()
        fd = os.open(self.folder / f"{run_of(event)}{SUFFIX}",
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)  # O_APPEND and one write: concurrent steps' lines stay whole
        finally:
            os.close(fd)


class Unavailable(RuntimeError):
    """Marquez did not answer (or answered 5xx): try again at the next shipment."""


@dataclass
class Shipment:
    """What one shipment did, for the sensor's or the command's log."""

    sent: int = 0
    rejected: int = 0
    kept: int = 0  # left in the outbox for the next shipment
    runs: int = 0
    seconds: float = 0.0
    unavailable: str = ""
    busy: bool = False  # another shipment held the outbox: this one sent nothing
    tagger: MarquezTagger | None = None

    def summary(self) -> str:
        text = (f"lineage to Marquez: {self.sent} sent, {self.rejected} rejected, "
                f"{self.kept} kept in the outbox ({self.runs} run(s), {self.seconds:.1f} s)")
        if self.busy:
            text += "; another shipment is running: it sends them"
        elif self.unavailable:
            text += f"; Marquez unavailable ({self.unavailable}): the next shipment retries"
        if self.tagger is not None and (self.tagger.tagged or self.tagger.failed):
            text += (f"; field tags: {self.tagger.tagged} set, {self.tagger.failed} failed")
        return text


@dataclass
class _Line:
    text: str
    job: tuple[str, str]  # (namespace, name)
    done: bool = False


@dataclass
class Shipper:
    """Ships the outbox at `folder` to the Marquez at `url`."""

    folder: Path
    url: str
    timeout_s: float = 2.0
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    def ship(self, finished: Callable[[str], bool]) -> Shipment:
        """Ship every file of a run `finished` says has finished, oldest first. Never raises."""
        began, shipment = time.monotonic(), Shipment()
        if not self.folder.is_dir():
            return shipment
        with open(self.folder / ".lock", "a") as lock:
            try:  # the two lineage sensors can tick at once: one shipment at a time
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                shipment.busy = True
                return shipment
            try:
                self._ship_all(finished, shipment)
            except Exception as error:  # an unreadable file, a full disk: lineage, not the tick
                LOG.warning("lineage shipment stopped: %s", type(error).__name__)
                shipment.unavailable = type(error).__name__
        shipment.seconds = time.monotonic() - began
        return shipment

    def _ship_all(self, finished: Callable[[str], bool], shipment: Shipment) -> None:
        shipment.tagger = MarquezTagger(self.url, self.timeout_s)
        files = sorted(self.folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
        for path in files:
            if shipment.unavailable:
                shipment.kept += len(path.read_text().splitlines())
                continue
            try:
                if not finished(path.stem):
                    continue  # its steps may still be appending
            except Exception:  # an instance that cannot say: leave the file for later
                continue
            shipment.runs += 1
            self._ship_file(path, shipment)

    def _ship_file(self, path: Path, shipment: Shipment) -> None:
        lines = [_parse(text) for text in path.read_text().splitlines() if text.strip()]
        lanes = deal(lines, LANES, lambda line: line.job) or [[]]
        with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="ship") as pool:
            reasons = [r for r in pool.map(lambda lane: self._send(lane, shipment), lanes) if r]
        left = [line.text for line in lines if not line.done]
        shipment.kept += len(left)
        if reasons:
            shipment.unavailable = reasons[0]
        if left:
            temporary = path.with_suffix(".tmp")
            temporary.write_text("".join(text + "\n" for text in left))
            os.replace(temporary, path)  # the outbox keeps exactly what is still to send
        else:
            path.unlink()

    def _send(self, lane: list[_Line], shipment: Shipment) -> str:
        """Send a lane's events in order; the reason it stopped early, or ""."""
        for line in lane:
            try:
                self._post(line)
            except Unavailable as error:
                LOG.warning("lineage shipment stopped: Marquez unavailable (%s)", error)
                return str(error)
            except _Rejected as error:
                shipment.rejected += 1
                LOG.warning("lineage event for job %s rejected by Marquez: %s", line.job[1],
                            error)
            else:
                shipment.sent += 1
                if shipment.tagger is not None:
                    shipment.tagger.tag_event(json.loads(line.text))
            line.done = True
        return ""

    def _post(self, line: _Line) -> None:
        try:
            answer = self._session.post(f"{self.url.rstrip('/')}/{ENDPOINT}", data=line.text,
                                        headers={"Content-Type": "application/json"},
                                        timeout=self.timeout_s)
        except requests.RequestException as error:  # its text may quote the URL: type only
            raise Unavailable(type(error).__name__) from None
        if answer.status_code >= 500:
            raise Unavailable(f"HTTP {answer.status_code}")
        if answer.status_code >= 400:
            raise _Rejected(f"HTTP {answer.status_code}")


class _Rejected(RuntimeError):
    """Marquez answered 4xx: the same event would be rejected again."""


def _parse(text: str) -> _Line:
    try:
        job = json.loads(text)["job"]
        key = (str(job["namespace"]), str(job["name"]))
    except (ValueError, KeyError, TypeError):  # a torn line: its own lane, Marquez decides
        key = ("", text[:40])
    return _Line(text=text, job=key)


__all__ = [
    "OutboxConfig",
    "OutboxTransport",
    "Shipment",
    "Shipper",
    "deal",
    "run_of",
]
