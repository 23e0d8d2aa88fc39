"""Deterministic, seeded data for a Seoul-based BigCommerce store: the sandbox's ground truth.

The same (seed, size, anchor) always yields the same records: every draw comes from one
`random.Random(seed)` consumed in a fixed order, and nothing reads the wall clock. Records carry
every field BigCommerce's published reference declares for their endpoint
(`reference/bigcommerce-reference.json`), so the server only filters, pages, adds what `include=`
asks for (`views.py`) and serialises them. How the records are drawn (and the money rules)
lives in `generator.py` and its `generator_*` modules; the word lists in `vocabulary.py`.
"""

from __future__ import annotations

import gc
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox.bigcommerce.generator import Generator


@dataclass(frozen=True)
class DatasetSize:
    """How many records of each top-level kind to generate."""

    customers: int
    orders: int
    products: int

    def __post_init__(self) -> None:
        if min(self.customers, self.orders, self.products) < 0:
            raise ValueError(f"dataset sizes must not be negative: {self}")
        if self.orders and not self.products:
            raise ValueError("orders need at least one product to reference")

    @classmethod
    def scaled(cls, size: int) -> DatasetSize:
        """The usual proportions: two orders per customer, a catalog a tenth the customer base."""
        return cls(customers=size, orders=2 * size, products=max(10, size // 10))


@dataclass
class Dataset:
    """Every record the sandbox serves, in id order.

    `order_products` maps an order id to its lines. Products carry their `variants` inline;
    `inventory_items` has one item per variant. Order references (`products`,
    `shipping_addresses`, `coupons`) hold a `url` relative to the store API root
    (`v2/orders/100/products`); the server makes it absolute for the address it serves on.
    """

    seed: int
    size: DatasetSize
    anchor: datetime
    customers: list[dict] = field(default_factory=list)
    customer_metafields: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    order_products: dict[int, list[dict]] = field(default_factory=dict)
    products: list[dict] = field(default_factory=list)
    inventory_items: list[dict] = field(default_factory=list)

    @classmethod
    def generate(cls, seed: int, size: DatasetSize, anchor: datetime) -> Dataset:
        """Draw a dataset; dates fall before `anchor` (a naive anchor is taken as UTC)."""
        if anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=UTC)
        data = cls(seed=seed, size=size, anchor=anchor)
        # Millions of long-lived records and no cycles: letting the cyclic GC rescan them while
        # they are built costs a third of the run at 50,000 customers and frees nothing.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            Generator(random.Random(seed), int(anchor.timestamp()), size).fill(data)
        finally:
            if gc_was_enabled:
                gc.enable()
        return data

    @property
    def variants(self) -> list[dict]:
        """Every variant of every product, in variant id order."""
        return [variant for product in self.products for variant in product["variants"]]
