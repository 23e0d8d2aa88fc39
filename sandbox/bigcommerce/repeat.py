"""Many orders cheaply: a few thousand drawn orders repeated with fresh ids, up to any count.

Drawing an order and its lines costs the generator about 0.1 ms and holds about 9 KB, so a
million orders would take two minutes and 9 GB before the first request. For scale benchmarks
`Dataset.generate` draws `drawn` orders (customers and products as usual) and
`repeat_orders` serves `count`: order `100 + n` is drawn order `n % drawn` with its own id, its
own reference URLs and its own shipping address id, and its lines carry ids of their own (a
cycle's line ids follow the previous cycle's). Each record is made when a page asks for it, so
the whole set costs what the drawn part does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sandbox.bigcommerce.data import Dataset

FIRST_ID = 100  # stores number their orders from 100, as the generator does
REFERENCES = ("products", "shipping_addresses", "coupons")


class RepeatedOrders(Sequence):
    def __init__(self, drawn: Sequence[dict], count: int) -> None:
        self._drawn, self._count = drawn, count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, at):  # type: ignore[override]  # int -> dict, slice -> list[dict]
        if isinstance(at, slice):
            return [self[i] for i in range(*at.indices(self._count))]
        n = at + self._count if at < 0 else at
        if not 0 <= n < self._count:
            raise IndexError(at)
        oid = FIRST_ID + n
        refs = {part: {"url": f"v2/orders/{oid}/{part}", "resource": f"/orders/{oid}/{part}"}
                for part in REFERENCES}
        return {**self._drawn[n % len(self._drawn)], "id": oid, **refs}

    def column(self, name: str, value: Callable[[dict, str], Any]) -> list[Any]:
        """Every order's `name` (`listing.Table` filters and sorts by it): only the id and the
        reference URLs differ from the drawn order's, so the rest repeats the drawn values."""
        if name == "id":
            return list(range(FIRST_ID, FIRST_ID + self._count))
        if name in REFERENCES:
            return [value(self[n], name) for n in range(self._count)]
        drawn = [value(record, name) for record in self._drawn]
        return [drawn[n % len(drawn)] for n in range(self._count)]


class RepeatedLines(Mapping):
    """Order id -> that order's lines, as `Dataset.order_products`."""

    def __init__(self, drawn: Mapping[int, list[dict]], drawn_orders: int, count: int) -> None:
        self._drawn, self._drawn_orders, self._count = drawn, drawn_orders, count
        self._cycle_ids = max((line["id"] for lines in drawn.values() for line in lines),
                              default=0)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        return iter(range(FIRST_ID, FIRST_ID + self._count))

    def __getitem__(self, oid: int) -> list[dict]:
        n = oid - FIRST_ID if isinstance(oid, int) else -1
        if not 0 <= n < self._count:
            raise KeyError(oid)
        cycle, position = divmod(n, self._drawn_orders)
        shift = cycle * self._cycle_ids
        return [{**line, "id": line["id"] + shift, "order_id": oid, "order_address_id": n + 1,
                 "product_options": [{**option, "order_product_id": line["id"] + shift}
                                     for option in line["product_options"]]}
                for line in self._drawn[FIRST_ID + position]]


def repeat_orders(dataset: Dataset, count: int) -> Dataset:
    """`dataset` serving `count` orders made from the ones it drew (see the module docstring)."""
    drawn = len(dataset.orders)
    if count <= drawn:
        return dataset
    if not drawn:
        raise ValueError("repeating orders needs at least one drawn order")
    dataset.orders = RepeatedOrders(dataset.orders, count)  # type: ignore[assignment]
    dataset.order_products = RepeatedLines(dataset.order_products, drawn, count)  # type: ignore[assignment]
    return dataset
