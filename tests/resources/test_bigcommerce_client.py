"""The BigCommerce client against the running sandbox over loopback HTTP.

Every record of every stream must arrive exactly once under each transport fault the sandbox
can inject, and a client left alone must never spend a request on a quota 429.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from resources.bigcommerce import BigCommerceClient, BigCommerceError, reads
from resources.environment import REPO_ROOT
from sandbox.bigcommerce.app import SandboxConfig
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.faults import FaultPlan
from sandbox.bigcommerce.server import running_sandbox

TOKEN = "test-token"
ORDERS_FOR_PRODUCTS = 60

TRANSPORT_FAULTS = {
    "server_error": {"kind": "server_error", "fraction": 0.25},
    "burst_429": {"kind": "burst_429", "every": 10, "length": 2},
    "connection_reset": {"kind": "connection_reset", "fraction": 0.2},
    "truncated_body": {"kind": "truncated_body", "fraction": 0.2},
    "latency": {"kind": "latency", "min_ms": 20, "max_ms": 50},
}


def sandbox_config(faults: list[dict] | None = None, **overrides) -> SandboxConfig:
    plan = FaultPlan.from_dict({"seed": 3, "fault": faults or []})
    return SandboxConfig(access_token=TOKEN, size=DatasetSize.scaled(120), fault_plan=plan,
                         **overrides)


def client_for(handle, **overrides) -> BigCommerceClient:
    options = {"concurrency": 8, "max_retries": 8, "backoff_base_s": 0.01, "backoff_cap_s": 0.2}
    return BigCommerceClient(handle.base_url, handle.store_hash, handle.access_token,
                             **{**options, **overrides})


V3_STREAMS = {  # name -> (path, params, page size, id of a record)
    "customers": ("v3/customers", {"sort": "date_modified:asc"}, 25, lambda r: r["id"]),
    "metafields": ("v3/customers/metafields", {}, 20, lambda r: r["id"]),
    "products": ("v3/catalog/products", {"include": "variants"}, 5, lambda r: r["id"]),
    "inventory": ("v3/inventory/items", {}, 10, lambda r: r["identity"]["variant_id"]),
}


async def read_everything(handle) -> tuple[dict[str, Counter], BigCommerceClient]:
    """Every v3 stream, orders (v2) and the products of the first orders (one call each)."""
    seen: dict[str, Counter] = {name: Counter() for name in [*V3_STREAMS, "orders", "items"]}
    async with client_for(handle) as client:
        for name, (path, params, limit, key) in V3_STREAMS.items():
            async for page in client.iter_v3(path, params, limit=limit):
                seen[name].update(key(record) for record in page.records)
        async for page in client.iter_v2("v2/orders", {"sort": "date_modified:asc"}, limit=50):
            seen["orders"].update(r["id"] for r in page.records)

        async def first_orders():
            for order in handle.dataset.orders[:ORDERS_FOR_PRODUCTS]:
                yield order["id"]

        lines = reads.sublists(client, first_orders(), lambda i: f"v2/orders/{i}/products")
        async for _, records in lines:
            seen["items"].update(r["id"] for r in records)
    return seen, client


def expected(handle) -> dict[str, Counter]:
    data = handle.dataset
    orders = data.orders[:ORDERS_FOR_PRODUCTS]
    items = [item["id"] for order in orders for item in data.order_products[order["id"]]]
    return {
        "customers": Counter(c["id"] for c in data.customers),
        "metafields": Counter(m["id"] for m in data.customer_metafields),
        "products": Counter(p["id"] for p in data.products),
        "inventory": Counter(i["identity"]["variant_id"] for i in data.inventory_items),
        "orders": Counter(o["id"] for o in data.orders),
        "items": Counter(items),
    }


@pytest.mark.parametrize("fault", sorted(TRANSPORT_FAULTS), ids=str)
def test_every_record_arrives_exactly_once_under_each_fault(fault):
    """Retries recover every page; ordered paging neither skips nor repeats a record."""
    spec = {"endpoint": "*", **TRANSPORT_FAULTS[fault]}
    with running_sandbox(sandbox_config([spec])) as handle:
        seen, client = asyncio.run(read_everything(handle))
        stats = handle.stats()
    assert seen == expected(handle)
    injected = {"server_error": client.stats.server_errors, "burst_429": client.stats.throttled_429,
                "connection_reset": client.stats.connection_errors,
                "truncated_body": client.stats.malformed_bodies}
    if fault in injected:
        assert injected[fault] > 0, f"the plan injected no {fault}: {stats}"
        # Pages read ahead past the end of a v2 list may fail and then be cancelled unretried.
        assert client.stats.retries >= injected[fault] - client.concurrency


def test_the_shipped_flaky_network_plan_loses_nothing():
    """`sandbox/fault_plans/flaky_network.toml`: every transport fault together."""
    plan = FaultPlan.load(REPO_ROOT / "sandbox" / "fault_plans" / "flaky_network.toml")
    config = SandboxConfig(access_token=TOKEN, size=DatasetSize.scaled(120), fault_plan=plan)
    with running_sandbox(config) as handle:
        seen, client = asyncio.run(read_everything(handle))
    assert seen == expected(handle)
    assert client.stats.retries > 0


def test_the_client_paces_itself_and_never_meets_a_quota_429():
    """With a quota of 10 per 300 ms, ~80 requests span several windows without a 429."""
    with running_sandbox(sandbox_config(quota=10, window_ms=300)) as handle:
        seen, client = asyncio.run(read_everything(handle))
        stats = handle.stats()
    assert seen == expected(handle)
    assert client.stats.requests > 5 * 10
    assert stats["quota_429"] == 0
    assert stats["max_admitted_in_window"] <= 10
    assert client.pacer.waited_s > 0  # it did wait for windows to reset


def test_a_bad_token_fails_fast_and_the_error_does_not_carry_the_token():
    """401 is not transient: no retry, and the message names the endpoint, not the token."""
    with running_sandbox(sandbox_config()) as handle:

        async def call():
            async with BigCommerceClient(handle.base_url, handle.store_hash, "wrong-secret") as c:
                await c.get("v3/customers")

        with pytest.raises(BigCommerceError) as error:
            asyncio.run(call())
    assert "401" in str(error.value) and "v3/customers" in str(error.value)
    assert "wrong-secret" not in str(error.value)


def test_retries_are_bounded_and_the_error_says_why():
    """A permanently failing endpoint gives up after max_retries with the last reason."""
    with running_sandbox(sandbox_config([{"endpoint": "customers", "kind": "server_error",
                                          "fraction": 1.0}])) as handle:

        async def call():
            async with client_for(handle, max_retries=3) as client:
                await client.get("v3/customers")
            return client

        with pytest.raises(BigCommerceError, match=r"gave up after 4 failures.*HTTP 5"):
            asyncio.run(call())
