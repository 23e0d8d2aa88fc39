"""Orders' lines read with the orders: `GET /v2/orders?include=consignments.line_items`.

BigCommerce v2 has no bulk read of order lines: `/orders/{id}/products` is one request per
order, a million requests for a million orders, hours at a real store's quota. The orders
listing embeds the same records in each of an order's consignments when asked
(`include=consignments.line_items&consignment_structure=object`: "the response returned from
the request to the /orders/{order_id}/products endpoint", BigCommerce's orders.v2 reference;
`sandbox/bigcommerce/reference/README.md`), up to 250 orders a request.

So the wanted orders are read in id ranges of the listing, one page each, and an order's
embedded lines are taken only when they account for the whole order: every line a whole record
(not a reference), each id once, their quantities summing to the order's `items_total`.
Anything else (the listing no longer shows the order, a reference, a count that differs, a
value that is not a count) falls back to that order's `/products`, read as before, where
404/410 means the order is gone. The fallback is always right; the listing only saves requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from resources.bigcommerce.client import BigCommerceClient, BigCommerceError
from resources.bigcommerce.keyset import PAGE
from resources.bigcommerce.reads import side_by_side, sublist

LISTING = "v2/orders"
WITH_LINES = {"include": "consignments.line_items", "consignment_structure": "object"}
# Where an order's consignments list their lines (the object structure).
CONSIGNMENT_KINDS = (("pickups",), ("shipping",), ("downloads",), ("email", "gift_certificates"))


@dataclass
class LineSources:
    """How many orders' lines came from where, and what the listing cost."""

    embedded: int = 0
    from_products: int = 0
    listing_requests: int = 0


async def order_lines(client: BigCommerceClient, keys: AsyncIterator[tuple[int, Any]],
                      sources: LineSources) -> AsyncIterator[tuple[tuple[int, Any], list | None]]:
    """(key, lines) for every key `(order_id, ...)`, or (key, None) when the order is gone.

    Keys in ascending id order make the fewest requests (a range of up to 250 ids is one
    listing page); any order is correct.
    """

    async def read(group: list[tuple[int, Any]]) -> list[tuple[tuple[int, Any], list | None]]:
        listed = await _listed(client, group[0][0], group[-1][0])
        sources.listing_requests += 1
        results = []
        for key in group:
            lines = embedded_lines(listed.get(key[0]))
            if lines is None:
                sources.from_products += 1
                lines = await sublist(client, f"v2/orders/{key[0]}/products")
            else:
                sources.embedded += 1
            results.append((key, lines))
        return results

    async for results in side_by_side(client, _ranges(keys), read):
        for result in results:
            yield result


async def _ranges(keys: AsyncIterator[tuple[int, Any]]) -> AsyncIterator[list[tuple[int, Any]]]:
    """Consecutive keys whose ids span fewer than PAGE, so one listing page holds them all."""
    group: list[tuple[int, Any]] = []
    async for key in keys:
        if group and not (group[0][0] <= key[0] < group[0][0] + PAGE):
            yield group
            group = []
        group.append(key)
    if group:
        yield group


async def _listed(client: BigCommerceClient, low: int, high: int) -> dict[int, dict]:
    """The orders with ids in [low, high], with their lines, by id."""
    query = {**WITH_LINES, "min_id": low, "max_id": high, "sort": "id:asc", "limit": PAGE}
    _, body = await client.get(LISTING, query)
    if body is None:
        return {}  # v2's 204: none of them is listed any more
    if not isinstance(body, list):
        raise BigCommerceError(f"GET {LISTING}: expected a JSON array")
    return {order["id"]: order for order in body
            if isinstance(order, dict) and _count(order.get("id")) is not None}


def embedded_lines(order: Any) -> list[dict] | None:
    """The order's lines from its consignments when they account for the whole order."""
    consignments = order.get("consignments") if isinstance(order, dict) else None
    if not isinstance(consignments, dict):
        return None
    lines: dict[int, dict] = {}
    for consignment in _consignments(consignments):
        items = consignment.get("line_items") if isinstance(consignment, dict) else None
        if not isinstance(items, list):
            return None
        for item in items:
            key = _count(item.get("id")) if isinstance(item, dict) else None
            if key is None or "product_id" not in item:
                return None  # a reference to the line, or a line without a usable id
            lines.setdefault(key, item)
    quantities = [_count(line.get("quantity")) for line in lines.values()]
    total = _count(order.get("items_total"))
    if total is None or None in quantities or sum(quantities) != total:
        return None
    return list(lines.values())


def _consignments(consignments: dict) -> list[Any]:
    found: list[Any] = []
    for kind in CONSIGNMENT_KINDS:
        listed: Any = consignments
        for step in kind:
            listed = listed.get(step) if isinstance(listed, dict) else None
        found += listed if isinstance(listed, list) else []
    return found


def _count(value: Any) -> int | None:
    """A whole number as JSON sends it (an int, or a float with nothing after the point)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
