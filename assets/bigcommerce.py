"""The BigCommerce streams as extraction specs.

Each stream is an `ExtractionSpec` whose reader says how its pages come: a v3 list, a v2 list,
an order's lines, or the on-sale slice of the inventory. `assets.factory` turns every
spec into its asset, so adding a stream is a spec and, at most, a page function.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from assets.records import RecordShape
from assets.spec import ExtractionSpec
from contracts import contract_for
from lineage import naming
from lineage.naming import DatasetId
from resources.bigcommerce import BigCommerceClient, BigCommerceResource, reads
from resources.bigcommerce.order_lines import LineSources, order_lines

if TYPE_CHECKING:
    from assets.extraction import Extraction

ISO = "%Y-%m-%dT%H:%M:%SZ"
MAX_NAMED = 50  # ids named in metadata and logs; the rest are counted

Pages = Callable[[BigCommerceClient, "Extraction"], Awaitable[None]]


@dataclass(frozen=True)
class BigCommerceReader:
    """A stream of the store: `pages` stages its records through the store's paced client."""

    pages: Pages
    resource_key: str = "bigcommerce"
    kind: str = "bigcommerce"

    def read(self, resource: BigCommerceResource, extraction: Extraction) -> dict[str, Any]:
        return asyncio.run(self._read(resource, extraction))

    async def _read(self, resource: BigCommerceResource, extraction: Extraction) -> dict:
        async with resource.client() as client:
            await self.pages(client, extraction)
            return client.stats.as_metadata()

    def dataset(self, resource: BigCommerceResource, spec: ExtractionSpec) -> DatasetId:
        return naming.bigcommerce_endpoint(resource.base_url, resource.store_hash,
                                           spec.source_label)

    def secrets(self, resource: BigCommerceResource) -> list[str | None]:
        return [resource.access_token]


def _v3_window(extraction: Extraction) -> dict[str, str]:
    """The window's bounds in v3's spelling. The upper bound is the run's start, so records
    that change while the run reads are the next run's, never a reason to skip one now."""
    since, until = extraction.window.since, extraction.batch.extracted_at
    bounds = {"date_modified:max": until.strftime(ISO)}
    if since:
        bounds["date_modified:min"] = since.strftime(ISO)
    return bounds


def cursor_list(path: str, *, split_by_creation: bool = False, **params: str) -> Pages:
    """A v3 list read with BigCommerce's cursor paging (it has no id range filter), in
    `date_created` ranges side by side when the endpoint can sort and filter by it."""
    read_all = reads.created_ranges if split_by_creation else reads.cursor

    async def read(client: BigCommerceClient, extraction: Extraction) -> None:
        async for records in read_all(client, path, {**params, **_v3_window(extraction)}):
            extraction.add(records)

    return read


async def read_products(client: BigCommerceClient, extraction: Extraction) -> None:
    params = {"include": "variants", **_v3_window(extraction)}
    async for records in reads.keyset(client, reads.V3_PRODUCTS, params):
        extraction.add(records)


async def read_orders(client: BigCommerceClient, extraction: Extraction) -> None:
    since, until = extraction.window.since, extraction.batch.extracted_at
    params = {"max_date_modified": format_datetime(until)}
    if since:
        params["min_date_modified"] = format_datetime(since)
    async for records in reads.keyset(client, reads.V2_ORDERS, params):
        extraction.add(records)


async def read_order_products(client: BigCommerceClient, extraction: Extraction) -> None:
    """Every line of every order changed in the window; each line takes its order's time.

    The lines come with their orders, 250 orders a request (`order_lines`), and from the
    order's `/products` where the listing does not account for it; the metadata's
    `order_lines_read` says how many of each. An order whose lines answer 404 was deleted after
    the orders were read: it is held back (never an order without its lines), named in the log
    and the asset's metadata (`orders_without_lines`), and the read goes on.
    """
    orders = ORDERS.ref

    async def changed_orders() -> AsyncIterator[tuple[int, object]]:
        # Every order's newest published version, held ones too: re-reading a held order's
        # lines is how its family is released.
        for row in extraction.zone.newest_versions(orders, extraction.window.since):
            yield row

    missing: list[int] = []
    sources = LineSources()
    async for (order_id, modified_at), records in order_lines(client, changed_orders(), sources):
        if records is None:
            missing.append(order_id)
            extraction.hold_parent(ORDERS.contract.qualified_name, order_id,
                                   "its lines answered HTTP 404: deleted since the orders "
                                   "were read")
        else:
            extraction.add(records, modified_at=modified_at)
    read = (f"lines of {sources.embedded} orders read with the orders listing "
            f"({sources.listing_requests} requests), of {sources.from_products} orders from "
            "/v2/orders/{id}/products")
    extraction.note("order_lines_read", read)
    extraction.context.log.info(f"order lines: {read}")
    if missing:
        missing.sort()
        extraction.note("orders_without_lines", ", ".join(map(str, missing[:MAX_NAMED])) +
                        (f" and {len(missing) - MAX_NAMED} more" if len(missing) > MAX_NAMED
                         else ""))
        extraction.context.log.warning(
            f"{len(missing)} orders had no lines to read (HTTP 404: deleted since the orders "
            f"were read), held back until their lines can be read: {missing[:MAX_NAMED]}"
        )


async def read_onsale_inventory(client: BigCommerceClient, extraction: Extraction) -> None:
    """Inventory of every variant of the products currently on sale, 50 products a request."""
    ids = [key for key, price in extraction.zone.current_field(PRODUCTS.ref, "sale_price")
           if _positive(price)]
    for start in range(0, len(ids), 50):
        chunk = ",".join(str(i) for i in ids[start : start + 50])
        async for page in client.iter_v3("v3/inventory/items", {"product_id:in": chunk}):
            extraction.add(page.records)  # a snapshot: nothing to bound, read as it is now


def _positive(price: str | None) -> bool:
    try:
        return Decimal(price or "0") > 0
    except InvalidOperation:
        return False  # not a price: nothing on sale to read


def _spec(
    name: str,
    table: str,
    group: str,
    label: str,
    shape: RecordShape,
    pages: Pages,
    *,
    snapshot: bool = False,
    deps: tuple[str, ...] = (),
) -> ExtractionSpec:
    return ExtractionSpec(
        name=name,
        contract=contract_for("bigcommerce", table),
        shape=shape,
        group=group,
        reader=BigCommerceReader(pages),
        source_label=label,
        deps=deps,
        snapshot=snapshot,
    )


V3_TIME = RecordShape("id", "date_modified", "iso8601")
CUSTOMERS = _spec(
    "src_customer", "customers", "customer", "GET /v3/customers", V3_TIME,
    cursor_list("v3/customers", split_by_creation=True,
                include="addresses,attributes,formfields,storecredit"),
)
METAFIELDS = _spec(
    "src_customer_metafields", "customer_metafields", "customer",
    "GET /v3/customers/metafields", V3_TIME, cursor_list("v3/customers/metafields"),
)
ORDERS = _spec(
    "src_order", "orders", "order", "GET /v2/orders",
    RecordShape("id", "date_modified", "rfc2822"), read_orders,
)
ORDER_PRODUCTS = _spec(
    "src_order_product", "order_products", "order", "GET /v2/orders/{id}/products",
    RecordShape("id"), read_order_products, deps=("src_order",),
)
PRODUCTS = _spec(
    "src_product", "products", "product", "GET /v3/catalog/products?include=variants", V3_TIME,
    read_products,
)
INVENTORY = _spec(
    "bigcommerce_onsale_product_inventory", "inventory", "product", "GET /v3/inventory/items",
    RecordShape("identity.variant_id"), read_onsale_inventory, snapshot=True,
    deps=("src_product",),
)
