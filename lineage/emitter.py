"""The one way events leave the platform: a thin wrapper over `openlineage-python`'s client.

Lineage must never fail or slow a run: `emit` never raises, each transport has a short timeout
and no retry storm, and every failure is logged (without URLs' secrets) and counted, so a run
can report "lineage: 41 sent, 3 failed" instead of dying on a Marquez outage.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent

LOG = logging.getLogger("commerce_governance.lineage")
PRODUCER = "https://github.com/commerce-governance/platform/lineage"
NAMESPACE = "commerce-governance"  # the namespace of every job this platform runs


class LineageDeliveryError(RuntimeError):
    """Some transport did not take the event. The message names transports and error types
    only: a transport's own error text may quote its URL, which can carry credentials."""


def _reason(error: Exception) -> str:
    return str(error) if isinstance(error, LineageDeliveryError) else type(error).__name__


@dataclass
class LineageEmitter:
    """Sends events through `client` (None: lineage disabled); counts what happened."""

    client: OpenLineageClient | None
    sent: int = 0
    failed: int = 0
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
        return True

    def summary(self) -> str:
        """For the run log: "lineage: 2 sent, 0 failed"."""
        return f"lineage: {self.sent} sent, {self.failed} failed"
