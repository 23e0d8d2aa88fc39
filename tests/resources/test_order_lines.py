"""Orders' lines read with the orders (`order_lines`), against the sandbox over loopback HTTP.

The listing's embedded lines must be exactly what `/orders/{id}/products` serves, in a small
fraction of its requests, and every order the listing does not account for (deleted since the
orders were read, a count that differs) must still be read the old way, or named as gone.
"""

from __future__ import annotations

import asyncio

from resources.bigcommerce.order_lines import LineSources, embedded_lines, order_lines
from sandbox.bigcommerce.server import running_sandbox
from tests.resources.test_bigcommerce_reads import client_for, config


def _read(handle, keys: list[int]):
    """Every order's lines by `order_lines`, with the sources counted, beside what the
    sandbox's `/orders/{id}/products` serves for each (its dataset; None once deleted)."""

    async def run():
        async def ordered():
            for key in keys:
                yield key, None

        sources, embedded = LineSources(), {}
        async with client_for(handle) as client:
            async for (order_id, _), lines in order_lines(client, ordered(), sources):
                assert order_id not in embedded, f"order {order_id} answered twice"
                embedded[order_id] = lines
        return sources, embedded

    sources, embedded = asyncio.run(run())
    served = {key: handle.dataset.order_products.get(key) for key in keys}
    return sources, embedded, served


def test_the_lines_come_with_their_orders_as_products_serves_them_in_few_requests():
    """1,200 orders with 260-line orders among them: the same records as /products, each
    order once, in 5 listing requests instead of 1,200 (and a page more per long order)."""
    many = {"kind": "many_lines", "endpoint": "orders", "fraction": 0.01, "lines": 260}
    with running_sandbox(config(many)) as handle:
        keys = [order["id"] for order in handle.dataset.orders]
        before = handle.stats()["requests_by_stream"].get("orders", 0)
        sources, embedded, served = _read(handle, keys)
        listing = handle.stats()["requests_by_stream"]["orders"] - before
    assert embedded == served and set(embedded) == set(keys)
    assert max(len(lines) for lines in embedded.values()) == 260
    assert (sources.embedded, sources.from_products) == (1_200, 0)
    assert sources.listing_requests == listing == 5


def test_an_order_the_listing_does_not_account_for_is_read_from_products_or_named_gone():
    """Deleted orders (the listing still shows them, without lines; /products answers 404)
    come back as None through the fallback, and nothing else is lost."""
    deleted = {"kind": "deleted_orders", "endpoint": "order_products", "fraction": 0.05}
    with running_sandbox(config(deleted, orders=400)) as handle:
        keys = [order["id"] for order in handle.dataset.orders]
        gone = set(handle.stats()["deleted_orders"])
        sources, embedded, served = _read(handle, keys)
    assert gone, "the plan deleted no order"
    assert {key for key, lines in embedded.items() if lines is None} == gone
    assert embedded == served
    assert (sources.embedded, sources.from_products) == (400 - len(gone), len(gone))


def test_sparse_keys_cost_no_more_requests_than_one_per_order():
    """Ids further apart than a page each get a range of their own, never a wider page."""
    with running_sandbox(config(orders=600)) as handle:
        keys = [order["id"] for order in handle.dataset.orders][::300]
        sources, embedded, served = _read(handle, keys)
    assert embedded == served and len(keys) == 2
    assert sources.listing_requests == 2


def _order(*consignments: list, items_total: int = 3) -> dict:
    shipping = [{"id": 1, "line_items": items} for items in consignments]
    return {"id": 7, "items_total": items_total,
            "consignments": {"pickups": [], "shipping": shipping, "downloads": [],
                             "email": {"gift_certificates": []}}}


def test_embedded_lines_are_taken_only_when_they_account_for_the_whole_order():
    line = {"id": 1, "product_id": 5, "quantity": 2}
    other = {"id": 2, "product_id": 6, "quantity": 1}
    assert embedded_lines(_order([line], [other])) == [line, other]
    assert embedded_lines(_order([line, other], [line])) == [line, other]  # each id once
    assert embedded_lines(_order([line])) is None  # 2 of 3 items: a line is missing
    reference = {"url": "https://api/v2/orders/7/products/1", "resource": "/orders/7/products/1"}
    assert embedded_lines(_order([reference])) is None
    assert embedded_lines(_order([{**line, "quantity": "2"}, other])) is None
    assert embedded_lines({"id": 7, "items_total": 3}) is None  # no consignments asked
    assert embedded_lines(None) is None  # not listed any more
    assert embedded_lines(_order([], items_total=0)) == []
