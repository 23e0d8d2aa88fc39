"""The BigCommerce connection as a Dagster resource: configuration here, behaviour in the client."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from resources.bigcommerce.client import BigCommerceClient
from resources.bigcommerce.ledger import FileLedger

PRODUCTION_API = "https://api.bigcommerce.com"


class BigCommerceResource(dg.ConfigurableResource):
    """One BigCommerce store. Bind `access_token` to `EnvVar("BIGCOMMERCE_ACCESS_TOKEN")`."""

    store_hash: str = Field(description="The store hash from the API path (`/stores/{hash}`).")
    access_token: str = Field(description="API account token; sent as X-Auth-Token, never logged.")
    base_url: str = Field(
        default=PRODUCTION_API,
        description="The API root; the local sandbox's URL when running on the embedded default.",
    )
    concurrency: int = Field(default=8, description="Requests in flight at once.")
    max_retries: int = Field(default=6, description="Retries of one request on transient errors.")
    timeout_s: float = Field(default=30.0, description="Timeout of one request, in seconds.")
    quota_ledger_dir: str | None = Field(
        default=None,
        description="Folder of the file every process of this machine paces the store's shared "
        "quota by (one file per store); unset, each client paces alone.",
    )

    def client(self) -> BigCommerceClient:
        """A new client; use it as `async with resource.client() as client:`."""
        return BigCommerceClient(
            self.base_url,
            self.store_hash,
            self.access_token,
            concurrency=self.concurrency,
            max_retries=self.max_retries,
            timeout_s=self.timeout_s,
            ledger=self._ledger(),
        )

    def _ledger(self) -> FileLedger | None:
        if not self.quota_ledger_dir:
            return None
        return FileLedger(Path(self.quota_ledger_dir) / f"{self.store_hash}.json")
