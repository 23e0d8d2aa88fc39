"""Where lineage goes: the emitter every event leaves through, and its Dagster resource (a
JSON-lines file, Marquez over HTTP, both or none). What the events say is `lineage/`'s job.

Lineage must never fail or slow a run: `emit` never raises, each transport has a short timeout
and no retry storm, and every failure is logged (without URLs' secrets) and counted, so a run
can report "lineage: 41 sent, 3 failed" instead of dying on a Marquez outage.

Everything is configured here, in code. The client is never left to find its own settings:
`openlineage-python` would merge an `openlineage.yml` from the working directory (or
`OPENLINEAGE_CONFIG`, `~/.openlineage`) and `OPENLINEAGE__*` variables into every client, which
silently redirects events, filters them out or copies environment variables (secrets) into
them. `resources.lineage_client` switches those sources off.

openlineage-python, requests and the outbox are imported where a client is built or a shipment
made, not here: loading the code location binds this resource and needs none of them (the
client alone takes about 0.25 s to import).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import RunEvent

    from resources.lineage_outbox import Shipment
    from resources.marquez_tags import MarquezTagger

LOG = logging.getLogger("commerce_governance.lineage")
LANES = 4  # jobs sent side by side (`emit_all`, and the outbox's shipments)
ENDPOINT = "api/v1/lineage"  # Marquez's ingest path


class LineageDeliveryError(RuntimeError):
    """Some transport did not take the event. The message names transports and error types
    only: a transport's own error text may quote its URL, which can carry credentials."""


def _reason(error: Exception) -> str:
    return str(error) if isinstance(error, LineageDeliveryError) else type(error).__name__


@dataclass
class LineageEmitter:
    """Sends events through `client` (None: lineage disabled); counts what happened. With a
    `tagger`, each delivered event's PII classes also become Marquez tags on its fields."""

    client: OpenLineageClient | None
    sent: int = 0
    failed: int = 0
    tagger: MarquezTagger | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def emit(self, event: RunEvent) -> bool:
        """True when every transport took the event; never raises."""
        if self.client is None:
            return False
        try:
            self.client.emit(event)
        except Exception as error:  # a lineage outage must not become a pipeline outage
            with self._lock:
                self.failed += 1
            kind = getattr(event.eventType, "value", event.eventType)
            LOG.warning("lineage %s event for job %s not delivered: %s", kind, event.job.name,
                        _reason(error))
            return False
        with self._lock:
            self.sent += 1
        if self.tagger is not None:
            self.tagger.tag_event(event)  # never raises; counts its own failures
        return True

    def emit_all(self, events: Sequence[RunEvent], *, give_up_after: int = 0) -> int:
        """Emit `events`, up to `LANES` jobs' side by side and each job's in the order given;
        how many were delivered. Never raises. A lane that fails `give_up_after` events in a
        row (0: never) stops trying and counts the rest of its events as failed.

        Marquez takes 60-120 ms to store one event (a JVM and its PostgreSQL, measured on two
        cores), so a dbt build's hundred-odd events sent one after another cost the step
        about 10 s; side by side, 4 lanes took 6 s. One job's events share a lane because
        their order is what Marquez keeps (a run's START before its COMPLETE, the newest run
        as the job's current version)."""
        from resources.lineage_outbox import deal

        lanes = deal(events, LANES, lambda event: (event.job.namespace, event.job.name))
        if len(lanes) <= 1:
            return sum(self._emit_in_order(lane, give_up_after) for lane in lanes)
        with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="lineage") as pool:
            return sum(pool.map(lambda lane: self._emit_in_order(lane, give_up_after), lanes))

    def _emit_in_order(self, events: list[RunEvent], give_up_after: int) -> int:
        sent = streak = 0
        for position, event in enumerate(events):
            if self.emit(event):
                sent, streak = sent + 1, 0
                continue
            streak += 1
            if streak == give_up_after:  # a build has hundreds of events: do not wait on each
                left = len(events) - position - 1
                with self._lock:
                    self.failed += left
                LOG.warning("lineage: %d events in a row not delivered; %d more not tried",
                            streak, left)
                break
        return sent

    def summary(self) -> str:
        """For the run log: "lineage: 2 sent, 0 failed" (and the Marquez tags, if any)."""
        text = f"lineage: {self.sent} sent, {self.failed} failed"
        if self.tagger is not None and (self.tagger.tagged or self.tagger.failed):
            text += f"; Marquez field tags: {self.tagger.tagged} set, {self.tagger.failed} failed"
        return text


# The client's default is 5 retries with backoff (~9 s per event when the endpoint is down).
# One immediate retry of a refused or dropped connection is enough for a blip; a read timeout
# is not retried, since the server may have taken the event and a slow server only gets slower.
HTTP_RETRY = {
    "total": 1,
    "connect": 1,
    "read": 0,
    "status": 1,
    "backoff_factor": 0.1,
    "status_forcelist": [502, 503, 504],
    "allowed_methods": ["POST"],
}


class LineageResource(dg.ConfigurableResource):
    """OpenLineage delivery. Bind `url` to `EnvVar("OPENLINEAGE_URL")`; see `resources.defs`."""

    file_path: str | None = Field(
        default=None, description="JSON-lines file every event is appended to (None: no file)."
    )
    url: str | None = Field(
        default=None, description=f"Marquez base URL; events are POSTed to `{ENDPOINT}`."
    )
    outbox: str | None = Field(
        default=None, description="Folder where the events bound for Marquez wait until their "
        "run has finished (`ship`); None: each step POSTs its own events and waits for Marquez.")
    timeout_s: float = Field(default=2.0, gt=0, description="HTTP timeout of one attempt.")
    disabled: bool = Field(default=False, description="Emit nothing at all.")

    def transport_configs(self) -> list[dict[str, Any]]:
        """The transports, as the client's transport factory takes them."""
        if self.disabled:
            return []
        configs: list[dict[str, Any]] = []
        if self.file_path:
            configs.append({"type": "file", "log_file_path": self.file_path, "append": True})
        if self.url and self.outbox:
            configs.append({"type": "resources.lineage_outbox.OutboxTransport",
                            "folder": self.outbox})
        elif self.url:
            configs.append({"type": "http", "url": self.url, "endpoint": ENDPOINT,
                            "timeout": self.timeout_s, "retry": dict(HTTP_RETRY)})
        return configs

    def client(self) -> OpenLineageClient | None:
        """A client over the configured transports; None when lineage is disabled or unset."""
        configs = self.transport_configs()
        if not configs:
            return None
        from resources.lineage_client import code_configured_client

        if self.file_path:  # the file transport does not create folders
            Path(self.file_path).parent.mkdir(parents=True, exist_ok=True)
        client = code_configured_client(configs)
        # OPENLINEAGE_DISABLED=true makes the client swap any transport for a no-op; say so
        # (None) rather than count events as sent that went nowhere.
        return None if client.transport.kind == "noop" else client

    def emitter(self) -> LineageEmitter:
        """A new emitter (one per step: it counts that step's deliveries). Never raises: a
        transport that cannot be built (a malformed URL) leaves an emitter that sends nothing
        and reports one failure."""
        from resources.marquez_tags import MarquezTagger

        try:
            client = self.client()
            in_step = client and self.url and not self.outbox  # else the shipment tags
            tagger = MarquezTagger(self.url, self.timeout_s) if in_step else None
            return LineageEmitter(client, tagger=tagger)
        except Exception as error:  # the error text may quote the URL: log its type only
            LOG.warning("lineage transport not built: %s", type(error).__name__)
            return LineageEmitter(None, failed=1)

    def ship(self, finished: Callable[[str], bool]) -> Shipment | None:
        """Send the outbox's events of every run `finished` says has finished (run id in, bool
        out) to Marquez; None when there is no outbox to ship. Never raises."""
        from resources.lineage_outbox import Shipper

        if self.disabled or not self.url or not self.outbox:
            return None
        return Shipper(Path(self.outbox), self.url, self.timeout_s).ship(finished)


__all__ = ["ENDPOINT", "HTTP_RETRY", "LANES", "LineageDeliveryError", "LineageEmitter",
           "LineageResource"]
