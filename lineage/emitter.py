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
            LOG.warning("lineage event for job %s not delivered: %s", event.job.name,
                        type(error).__name__)
            return False
        with self._lock:
            self.sent += 1
        return True
