"""The seven BigCommerce endpoints the platform extracts from, as aiohttp handlers.

Each handler reads its query with `query.Query` (exactly the parameters BigCommerce's reference
declares for the endpoint; filters by their names, `filtering.py`), asks a `Table` for the
matching records in order, and hands the page to `Store`, which applies the fault plan's record
faults and renders the v3 envelope or the bare v2 array (204 past the end); `views.py` adds what
`include=` asks for. Paths and stream names are in `ROUTES`.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from aiohttp import web

from sandbox.bigcommerce import reference, views
from sandbox.bigcommerce.data import Dataset
from sandbox.bigcommerce.faults import FaultPlan
from sandbox.bigcommerce.filtering import Predicate, reference_filters
from sandbox.bigcommerce.listing import ApiError, Table, filters
from sandbox.bigcommerce.query import Query, cursor_pagination, pagination

# Product filters whose meaning is not in their name (see filtering.py).
PRODUCT_SPECIAL = ("categories", "categories:in", "channel_id:in", "condition", "keyword",
                   "keyword_context", "inventory_low", "out_of_stock")
STORE_CHANNEL = 1  # the store's one channel, its storefront
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
        for table in self.tables.values():
            table.index()

    def answered(self, stream: str) -> None:
        """A handler answered a request to `stream` (2xx): the source hooks act now."""
        self.source.answer(stream, self.tables)

    def v3_page(self, stream: str, request: web.Request, records: Sequence[dict], page: int,
                limit: int, shape: Shape | None = None, meta: dict | None = None,
                start: int | None = None) -> web.Response:
        """`meta` and `start` (the page's first position) for pages cut by a cursor."""
        first = (page - 1) * limit if start is None else start
        served = self.plan.apply_records(stream, records, first, limit)
        meta = meta or {"pagination": pagination(request.query, len(records), page, limit)}
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
    """Compact UTF-8 JSON, as BigCommerce sends it. orjson, because with the standard library
    a 250-order page costs this one-process server ~10 ms to encode, a fifth of the quota's
    pace, so a benchmark would measure the stand-in instead of the client."""
    body = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    return web.Response(body=body, status=status, content_type="application/json")


def _keep(records: Sequence[dict], predicates: list[Predicate]) -> Sequence[dict]:
    return [r for r in records if all(test(r) for test in predicates)] if predicates else records


def _id(record: dict) -> Any:
    return record["id"]


def _v3_listing(store: Store, stream: str, request: web.Request, q: Query,
                selected: Sequence[dict], id_order: bool,
                shape: Shape | None = None) -> web.Response:
    """A page of a v3 list by page number, or by cursor (`after` / `before`, id order only).

    With a cursor `page` is ignored and `meta.pagination` counts from the cursor on.
    """
    page, limit = q.page_limit()
    after, before = q.cursor("after"), q.cursor("before")
    if after is None and before is None:
        start = (page - 1) * limit
        window = selected[start:start + limit]
        meta = {"pagination": pagination(q.params, len(selected), page, limit),
                "cursor_pagination": cursor_pagination(
                    q.params, window, limit, id_order and start > 0,
                    id_order and start + limit < len(selected))}
        return store.v3_page(stream, request, selected, page, limit, shape, meta=meta)
    if after is not None and before is not None:
        raise q.invalid("before", "give either after or before, not both")
    if not id_order:
        raise q.invalid("after" if after is not None else "before",
                        "cursors page in ascending id order: leave out sort and direction")
    if after is not None:
        low = bisect.bisect_right(selected, after, key=_id)
        high = min(low + limit, len(selected))
        remaining, served = len(selected) - low, selected
    else:
        high = bisect.bisect_left(selected, before, key=_id)
        low = max(0, high - limit)
        remaining, served = high, selected[:high]
    window = selected[low:high]
    block = pagination(q.params, remaining, 1, limit)
    cursors = cursor_pagination(q.params, window, limit, low > 0, high < len(selected))
    block["links"] = {"current": "?" + urlencode(dict(q.params), quote_via=quote, safe=":,"),
                      **cursors["links"]}
    meta = {"pagination": block, "cursor_pagination": cursors}
    return store.v3_page(stream, request, served, 1, limit, shape, meta=meta, start=low)


def _fields(q: Query, stream_fields: Collection[str]) -> Shape | None:
    """`include_fields` / `exclude_fields`, each name checked against the endpoint's fields."""
    wanted, dropped = q.strings("include_fields"), q.strings("exclude_fields")
    for name, given in (("include_fields", wanted), ("exclude_fields", dropped)):
        unknown = sorted((given or set()) - set(stream_fields))
        if unknown:
            raise q.invalid(name, f"unknown field(s) {unknown}")
    if not wanted and not dropped:
        return None
    return lambda record: views.select_fields(record, wanted, dropped)


def _then(first: Shape, second: Shape | None) -> Shape:
    return first if second is None else lambda record: second(first(record))


async def customers(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, "customers")
    include = q.includes()
    field, _, direction = q.params.get("sort", "id:asc").partition(":")
    conditions, predicates = reference_filters(q, ("name:in", "name:like"))
    names, likes = q.strings("name:in"), q.strings("name:like")
    if names is not None:
        predicates.append(lambda r: f"{r['first_name']} {r['last_name']}" in names)
    if likes is not None:
        needles = [n.lower() for n in likes]
        predicates.append(lambda r: any(n in f"{r['first_name']} {r['last_name']}".lower()
                                        for n in needles))
    selected = _keep(store.tables["customers"].select(conditions, field, direction == "desc"),
                     predicates)
    return _v3_listing(store, "customers", request, q, selected, "sort" not in q.params,
                       lambda r: views.customer(r, include))


async def customer_metafields(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, "customer_metafields")
    owner = request.match_info.get("customer_id")
    conditions, _ = reference_filters(q)
    if owner:
        conditions += (("resource_id", "eq", int(owner)),)
    descending = q.params.get("direction") == "desc"
    selected = store.tables["customer_metafields"].select(conditions, "id", descending)
    fields = reference.endpoint("customer_metafields")["fields"]
    return _v3_listing(store, "customer_metafields", request, q, selected, not descending,
                       _fields(q, fields))


async def orders(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, "orders", v2=True)
    page, limit = q.page_limit()
    include = q.includes()
    field, descending = q.v2_sort()
    conditions, predicates = reference_filters(
        q, ("email", "min_total", "max_total", "consignment_structure"))
    email = q.params.get("email")
    if email is not None:
        predicates.append(lambda r: (r.get("billing_address") or {}).get("email") == email)
    for name, test in (("min_total", operator.ge), ("max_total", operator.le)):
        bound = q.number(name)
        if bound is not None:
            predicates.append(lambda r, t=test, b=Decimal(str(bound)):
                              t(Decimal(r["total_inc_tax"]), b))
    selected = _keep(store.tables["orders"].select(conditions, field, descending), predicates)
    base = f"{request.url.origin()}/stores/{store.store_hash}/"
    lines = store.dataset.order_products

    def shape(record: dict) -> dict:
        # The embedded lines are the records /products would serve, with its faults.
        own = lines.get(record.get("id"), ())
        if "consignments.line_items" in include:
            own = store.plan.apply_records("order_products", own, 0, len(own))
        return views.order(record, include, base, own)

    return store.v2_page("orders", selected, page, limit, shape)


async def order_products(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, "order_products", v2=True)
    order_id = int(request.match_info["order_id"])
    lines = store.dataset.order_products.get(order_id)
    if lines is None:
        if order_id in store.source.deleted_orders:
            store.source.deleted_order_404 += 1
        raise ApiError(404, "The requested resource was not found", v2=True)
    page, limit = q.page_limit()
    return store.v2_page("order_products", lines, page, limit)


async def products(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, "products")
    page, limit = q.page_limit()
    include = q.includes()
    if include & {"options", "modifiers"}:
        limit = min(limit, 10)  # the real API caps these heavy pages at 10 products
    conditions, predicates = reference_filters(q, PRODUCT_SPECIAL)
    conditions += filters(
        ("categories", "has", q.integer("categories", minimum=0)),
        ("categories", "overlaps", q.integers("categories:in")),
        ("condition", "eq", q.params["condition"].capitalize() if "condition" in q.params
         else None))
    channels = q.integers("channel_id:in")
    if channels is not None and STORE_CHANNEL not in channels:
        predicates.append(lambda r: False)  # every product is listed on the one storefront
    keyword = (q.params.get("keyword") or "").strip().lower()
    if keyword:
        predicates.append(lambda r: any(keyword in str(r.get(k, "")).lower()
                                        for k in ("name", "sku", "description")))
    low, out = q.integer("inventory_low", minimum=0), q.integer("out_of_stock", minimum=0)
    if low is not None:
        predicates.append(lambda r: (r["inventory_level"] <= r["inventory_warning_level"])
                          == bool(low))
    if out is not None:
        predicates.append(lambda r: (r["inventory_level"] == 0) == bool(out))
    selected = _keep(store.tables["products"].select(
        conditions, q.params.get("sort", "id"), q.params.get("direction") == "desc"), predicates)
    fields = reference.field_specs("products", set(q.enum("include")))
    shape = _then(lambda r: views.product(r, include), _fields(q, fields))
    return store.v3_page("products", request, selected, page, limit, shape)


async def variants(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, "variants")
    page, limit = q.page_limit()
    conditions, _ = reference_filters(q)
    selected = store.tables["variants"].select(conditions)
    return store.v3_page("variants", request, selected, page, limit,
                         _fields(q, reference.endpoint("variants")["fields"]))


async def inventory_items(request: web.Request) -> web.Response:
    store, q = request.app[STORE], Query(request.query, "inventory_items")
    page, limit = q.page_limit()
    conditions, predicates = reference_filters(q, ("location_id:in", "location_code:in"))
    ids, codes = q.integers("location_id:in"), q.strings("location_code:in")
    for key, wanted in (("location_id", ids), ("location_code", codes)):
        if wanted is not None:
            predicates.append(lambda r, k=key, w=wanted:
                              any(loc[k] in w for loc in r["locations"]))
    selected = _keep(store.tables["inventory"].select(conditions, "variant_id"), predicates)
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
