"""The seven BigCommerce endpoints the platform extracts from, as aiohttp handlers.

Each handler parses its filters, asks a `Table` for the matching records in order, and hands
the page to `Store`, which applies the fault plan's record faults and renders the v3 envelope
or the bare v2 array (204 past the end). Paths and stream names are in `ROUTES`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from sandbox.bigcommerce.data import Dataset
from sandbox.bigcommerce.faults import FaultPlan
from sandbox.bigcommerce.listing import ApiError, Query, Table, filters, pagination

CUSTOMER_INCLUDES = {"addresses": "addresses", "attributes": "attributes",
                     "formfields": "form_fields", "storecredit": "store_credit_amounts"}
CUSTOMER_SORTS = ("id", "id:asc", "id:desc", "date_created:asc", "date_created:desc",
                  "date_modified:asc", "date_modified:desc", "last_name:asc", "last_name:desc")
ORDER_SORT_FIELDS = ("id", "customer_id", "date_created", "date_modified", "status_id")
PRODUCT_INCLUDES = ("variants", "images", "custom_fields", "bulk_pricing_rules",
                    "primary_image", "modifiers", "options", "videos")
PRODUCT_SORTS = ("id", "name", "sku", "price", "date_modified", "total_sold", "inventory_level")
ORDER_REFERENCES = ("products", "shipping_addresses", "coupons")
Shape = Callable[[dict], dict]


class Store:
    """The dataset as served: tables per stream plus the fault plan's source and record layers.

    The source kinds run first, on the dataset itself, so the tables index what they made.
    """

    def __init__(self, dataset: Dataset, store_hash: str, plan: FaultPlan) -> None:
        self.dataset, self.store_hash, self.plan = dataset, store_hash, plan
        self.source = plan.apply_source(dataset)
        self.tables = {
            "customers": Table(dataset.customers),
            "customer_metafields": Table(dataset.customer_metafields),
            "orders": Table(dataset.orders),
            "products": Table(dataset.products),
            "variants": Table(dataset.variants),
            "inventory": Table(dataset.inventory_items, "variant_id", nested="identity"),
        }
        self.source.start(self.tables)

    def answered(self, stream: str) -> None:
        """A handler answered a request to `stream` (2xx): the source hooks act now."""
        self.source.answer(stream, self.tables)

    def v3_page(self, stream: str, request: web.Request, records: Sequence[dict], page: int,
                limit: int, shape: Shape | None = None) -> web.Response:
        served = self.plan.apply_records(stream, records, (page - 1) * limit, limit)
        meta = {"pagination": pagination(request.query, len(records), page, limit)}
        return json_response({"data": [shape(r) for r in served] if shape else served,
                              "meta": meta})

    def v2_page(self, stream: str, records: Sequence[dict], page: int, limit: int,
                shape: Shape | None = None) -> web.Response:
        if (page - 1) * limit >= len(records):
            return web.Response(status=204)  # v2 says "no more" with an empty 204
        served = self.plan.apply_records(stream, records, (page - 1) * limit, limit)
        return json_response([shape(r) for r in served] if shape else served)


STORE = web.AppKey("store", Store)


def json_response(payload: Any, status: int = 200) -> web.Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, content_type="application/json")


def _date_range(q: Query, v2: bool = False) -> tuple:
    """date_modified / date_created bounds, spelled the v3 way or the v2 way."""
    def name(field: str, bound: str) -> str:
        return f"{bound}_{field}" if v2 else f"{field}:{bound}"

    return tuple((field, bound, q.date(name(field, bound)))
                 for field in ("date_modified", "date_created") for bound in ("min", "max"))


async def customers(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query)
    page, limit = q.page_limit()
    include = q.includes(tuple(CUSTOMER_INCLUDES))
    hidden = [key for name, key in CUSTOMER_INCLUDES.items() if name not in include]
    field, _, direction = q.choice("sort", CUSTOMER_SORTS, "id").partition(":")
    selected = store.tables["customers"].select(filters(
        ("id", "in", q.integers("id:in")), ("email", "in", q.strings("email:in")),
        ("customer_group_id", "in", q.integers("customer_group_id:in")), *_date_range(q),
    ), field, direction == "desc")
    return store.v3_page("customers", request, selected, page, limit,
                         lambda r: {k: v for k, v in r.items() if k not in hidden})


async def customer_metafields(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query)
    page, limit = q.page_limit()
    owner = request.match_info.get("customer_id")
    selected = store.tables["customer_metafields"].select(filters(
        ("resource_id", "eq", int(owner) if owner else None),
        ("resource_id", "in", q.integers("resource_id:in")),
        ("key", "in", q.strings("key")), ("namespace", "in", q.strings("namespace")),
        *_date_range(q),
    ))
    return store.v3_page("customer_metafields", request, selected, page, limit)


async def orders(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, v2=True)
    page, limit = q.page_limit()
    sorts = [f"{f}{d}" for f in ORDER_SORT_FIELDS for d in ("", ":asc", ":desc")]
    field, _, direction = q.choice("sort", sorts, "id").partition(":")
    selected = store.tables["orders"].select(filters(
        ("id", "min", q.integer("min_id")), ("id", "max", q.integer("max_id")),
        ("customer_id", "eq", q.integer("customer_id", minimum=0)),
        ("status_id", "eq", q.integer("status_id", minimum=0)), *_date_range(q, v2=True),
    ), field, direction == "desc")
    base = f"{request.url.origin()}/stores/{store.store_hash}/"

    def absolute_references(order: dict) -> dict:
        refs = {part: {**order[part], "url": base + order[part]["url"]}
                for part in ORDER_REFERENCES if isinstance(order.get(part), dict)}
        return {**order, **refs}

    return store.v2_page("orders", selected, page, limit, absolute_references)


async def order_products(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, v2=True)
    order_id = int(request.match_info["order_id"])
    lines = store.dataset.order_products.get(order_id)
    if lines is None:
        if order_id in store.source.deleted_orders:
            store.source.deleted_order_404 += 1
        raise ApiError(404, "The requested resource was not found", v2=True)
    page, limit = q.page_limit()
    return store.v2_page("order_products", lines, page, limit)


async def products(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query)
    page, limit = q.page_limit()
    include = q.includes(PRODUCT_INCLUDES)
    if include & {"options", "modifiers"}:
        limit = min(limit, 10)  # the real API caps these heavy pages at 10 products
    field = q.choice("sort", PRODUCT_SORTS, "id")
    visible = q.choice("is_visible", ("true", "false", "1", "0", ""), "")
    selected = store.tables["products"].select(filters(
        ("id", "in", q.integers("id:in")), ("id", "min", q.integer("id:min")),
        ("id", "max", q.integer("id:max")), ("sku", "in", q.strings("sku")),
        ("sku", "in", q.strings("sku:in")), ("brand_id", "eq", q.integer("brand_id")),
        ("is_visible", "eq", visible in ("true", "1") if visible else None), *_date_range(q),
    ), field, q.choice("direction", ("asc", "desc"), "asc") == "desc")
    return store.v3_page("products", request, selected, page, limit,
                         lambda r: _product_view(r, include))


def _product_view(product: dict, include: frozenset[str]) -> dict:
    """Nested lists appear only when asked for, as in the real API."""
    view = {k: v for k, v in product.items() if k != "variants" or "variants" in include}
    extras = {"images": [], "custom_fields": [], "bulk_pricing_rules": [], "modifiers": [],
              "videos": [], "primary_image": None}
    view.update({k: v for k, v in extras.items() if k in include})
    if "options" in include:
        options: dict[int, dict] = {}
        for value in (ov for v in product.get("variants", ()) for ov in v["option_values"]):
            option = options.setdefault(value["option_id"], {
                "id": value["option_id"], "product_id": product.get("id"),
                "display_name": value["option_display_name"], "type": "rectangles",
                "option_values": []})
            option["option_values"].append({"id": value["id"], "label": value["label"]})
        view["options"] = list(options.values())
    return view


async def variants(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query)
    page, limit = q.page_limit()
    selected = store.tables["variants"].select(filters(
        ("id", "in", q.integers("id:in")), ("product_id", "in", q.integers("product_id:in")),
        ("sku", "in", q.strings("sku")), ("sku", "in", q.strings("sku:in")),
    ))
    return store.v3_page("variants", request, selected, page, limit)


async def inventory_items(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query)
    page, limit = q.page_limit()
    selected = store.tables["inventory"].select(filters(
        ("product_id", "in", q.integers("product_id:in")),
        ("variant_id", "in", q.integers("variant_id:in")), ("sku", "in", q.strings("sku:in")),
    ), "variant_id")
    locations = q.integers("location_id:in")
    if locations is not None:
        selected = [item for item in selected
                    if any(loc["location_id"] in locations for loc in item["locations"])]
    return store.v3_page("inventory", request, selected, page, limit)


# (stream, path under /stores/{store_hash}/, handler); the stream names the fault plan uses.
ROUTES = (
    ("customers", "v3/customers", customers),
    ("customer_metafields", "v3/customers/metafields", customer_metafields),
    ("customer_metafields", r"v3/customers/{customer_id:\d+}/metafields", customer_metafields),
    ("orders", "v2/orders", orders),
    ("order_products", r"v2/orders/{order_id:\d+}/products", order_products),
    ("products", "v3/catalog/products", products),
    ("variants", "v3/catalog/variants", variants),
    ("inventory", "v3/inventory/items", inventory_items),
)
