"""The OpenLineage client the lineage resource builds: the stock one, configured in code only.

Imported when a client is built (`LineageResource.client`), not when the resource is bound:
openlineage-python's client takes about 0.25 s to import.
"""

from __future__ import annotations

from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.transport import get_default_factory
from openlineage.client.transport.composite import CompositeConfig, CompositeTransport
from openlineage.client.transport.transport import Transport

from resources.lineage import LineageDeliveryError


class _CodeConfiguredClient(OpenLineageClient):
    """The stock client, minus the configuration it would read from files and environment."""

    @staticmethod
    def _find_yaml_config_path() -> str | None:
        return None

    @classmethod
    def _load_config_from_env_variables(cls) -> dict[str, Any] | None:
        return None

    def _alias_env_vars(self) -> None:
        """The stock client copies OPENLINEAGE_URL into `os.environ` under other names."""


class _EveryTransport(CompositeTransport):
    """Tries every transport (`continue_on_failure`), then raises if any of them failed.

    The stock composite only logs a child's failure when another child took the event, so a
    Marquez outage would go uncounted whenever the file still works."""

    def emit(self, event: Any) -> None:
        failures = []
        for transport in self.transports:
            try:
                transport.emit(event)
            except Exception as error:  # each child is independent; report them together
                failures.append(f"{transport.kind}: {type(error).__name__}")
        if failures:
            raise LineageDeliveryError(", ".join(failures))


def code_configured_client(configs: list[dict[str, Any]]) -> OpenLineageClient:
    """A client over `configs` (the transport factory's form): every one of them when several."""
    transport: Transport
    if len(configs) == 1:
        transport = get_default_factory().create(configs[0])
    else:
        transport = _EveryTransport(CompositeConfig(transports=configs, continue_on_failure=True))
    return _CodeConfiguredClient(transport=transport)
