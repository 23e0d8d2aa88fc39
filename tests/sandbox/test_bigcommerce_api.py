"""The BigCommerce sandbox speaks the real API: shapes, paging, filters, auth, quota, faults.

Each test starts (or shares) a small sandbox over real HTTP on 127.0.0.1, so what is proved here
is what a client sees on the wire.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import pytest

from sandbox.bigcommerce import (
    Dataset,
    DatasetSize,
    FaultPlan,
    FaultPlanError,
    SandboxConfig,
    running_sandbox,
)
from sandbox.bigcommerce.faults import stable_unit
from sandbox.bigcommerce.formats import record_epoch
from sandbox.bigcommerce.ratelimit import FixedWindowLimiter

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = datetime(2025, 1, 15, 12, tzinfo=UTC)
TOKEN = "test-token"
SIZE = DatasetSize.scaled(60)
RATE_HEADERS = ("X-Rate-Limit-Time-Window-Ms", "X-Rate-Limit-Time-Reset-Ms",
                "X-Rate-Limit-Requests-Quota", "X-Rate-Limit-Requests-Left")
MONEY = re.compile(r"^-?\d+\.\d{4}$")
RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} "
                     r"\+0000$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def config(**overrides) -> SandboxConfig:
    settings = {"access_token": TOKEN, "size": SIZE, "anchor": ANCHOR, "quota": 10_000}
    return SandboxConfig(**{**settings, **overrides})


def faulty(*faults: dict, seed: int = 7, **overrides) -> SandboxConfig:
    return config(fault_plan=FaultPlan.from_dict({"seed": seed, "fault": list(faults)}),
                  **overrides)


def get(sandbox, path: str, token: str | None = TOKEN) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a GET under the store, errors included."""
    request = urllib.request.Request(sandbox.store_url + path,
                                     headers={"X-Auth-Token": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(sandbox, path: str):
    status, _, body = get(sandbox, path)
    assert status == 200, (path, status, body[:200])
    return json.loads(body)


def v3_all(sandbox, path: str, limit: int) -> list[list[dict]]:
    """Every page of a v3 listing, following meta.pagination."""
    sep = "&" if "?" in path else "?"
    first = get_json(sandbox, f"{path}{sep}limit={limit}&page=1")
    pages = [first["data"]]
    for page in range(2, first["meta"]["pagination"]["total_pages"] + 1):
        pages.append(get_json(sandbox, f"{path}{sep}limit={limit}&page={page}")["data"])
    return pages


def v2_all(sandbox, path: str, limit: int = 50) -> list[list[dict]]:
    """Every page of a v2 listing: page until the 204."""
    sep, pages = "&" if "?" in path else "?", []
    while True:
        status, _, body = get(sandbox, f"{path}{sep}limit={limit}&page={len(pages) + 1}")
        if status == 204:
            assert body == b""
            return pages
        assert status == 200
        pages.append(json.loads(body))


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(config()) as handle:
        yield handle


# ---- listings, paging and filters -----------------------------------------------------------


def test_v3_paging_is_exact_and_meta_is_complete(sandbox):
    """Every customer appears exactly once across pages; meta and links describe the paging."""
    first = get_json(sandbox, "/v3/customers?limit=7&include=addresses")
    meta = first["meta"]["pagination"]
    assert meta["total"] == 60 and meta["total_pages"] == 9 and meta["per_page"] == 7
    assert meta["count"] == 7 and meta["current_page"] == 1
    assert meta["links"]["current"].startswith("?page=1&limit=7")
    assert "previous" not in meta["links"]
    assert meta["links"]["next"] == "?page=2&limit=7&include=addresses"
    pages = v3_all(sandbox, "/v3/customers?include=addresses", limit=7)
    ids = [c["id"] for page in pages for c in page]
    assert sorted(ids) == [c["id"] for c in sandbox.dataset.customers] and len(set(ids)) == 60
    last = get_json(sandbox, "/v3/customers?limit=7&page=9")["meta"]["pagination"]
    assert last["count"] == 4 and "next" not in last["links"]
    assert last["links"]["previous"] == "?page=8&limit=7"
    assert get_json(sandbox, "/v3/customers?limit=7&page=10")["data"] == []


def test_customer_include_controls_nested_lists(sandbox):
    """Nested lists appear only when `include` asks for them, as in the real API."""
    plain = get_json(sandbox, "/v3/customers?limit=3")["data"][0]
    assert "address_count" in plain
    assert not {"addresses", "attributes", "form_fields", "store_credit_amounts"} & set(plain)
    full = get_json(sandbox, "/v3/customers?limit=3&include=addresses,attributes,formfields,"
                             "storecredit")["data"][0]
    assert full == sandbox.dataset.customers[0]


def test_v2_orders_are_bare_arrays_with_204_past_the_last_page(sandbox):
    """v2 orders page as bare arrays, every order once, and the page after the last is 204."""
    pages = v2_all(sandbox, "/v2/orders", limit=50)
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [o["id"] for p in pages for o in p] == [o["id"] for o in sandbox.dataset.orders]
    order = pages[0][0]
    assert order["products"]["url"] == f"{sandbox.store_url}/v2/orders/{order['id']}/products"
    assert order["products"]["resource"] == f"/orders/{order['id']}/products"


def test_v2_orders_answer_204_when_nothing_matches(sandbox):
    """A filter that matches nothing gives 204 with an empty body, not an empty array."""
    future = format_datetime(ANCHOR + timedelta(days=1))
    status, headers, body = get(sandbox, f"/v2/orders?min_date_modified={_q(future)}")
    assert (status, body) == (204, b"")
    assert all(h in headers for h in RATE_HEADERS)


def test_incremental_filters_match_the_ground_truth(sandbox):
    """`date_modified:min` (v3) and `min_date_modified` (v2, RFC-2822 or ISO) return exactly
    the records modified since, and a 12-hour window is not empty."""
    since = ANCHOR - timedelta(hours=12)
    expected = [c["id"] for c in sandbox.dataset.customers
                if record_epoch(c["date_modified"]) >= since.timestamp()]
    assert expected, "the data must put some customers in a 12-hour incremental window"
    iso = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    got = get_json(sandbox, f"/v3/customers?date_modified:min={iso}&sort=date_modified:asc"
                            "&limit=250")["data"]
    assert sorted(c["id"] for c in got) == expected
    stamps = [record_epoch(c["date_modified"]) for c in got]
    assert stamps == sorted(stamps)
    day = get_json(sandbox, f"/v3/customers?date_modified:min={since:%Y-%m-%d}&limit=250")
    assert len(day["data"]) >= len(got)

    truth = {o["id"] for o in sandbox.dataset.orders
             if record_epoch(o["date_modified"]) >= since.timestamp()}
    for value in (format_datetime(since), since.isoformat()):
        pages = v2_all(sandbox, f"/v2/orders?min_date_modified={_q(value)}"
                                "&sort=date_modified:asc")
        assert {o["id"] for p in pages for o in p} == truth


def test_order_products_per_order_and_404(sandbox):
    """Each order's lines come back as a bare array; an unknown order is 404."""
    order = sandbox.dataset.orders[5]
    lines = get_json(sandbox, f"/v2/orders/{order['id']}/products")
    assert lines == sandbox.dataset.order_products[order["id"]]
    assert all(line["order_id"] == order["id"] for line in lines)
    status, _, body = get(sandbox, "/v2/orders/99999/products")
    assert status == 404 and json.loads(body)[0]["status"] == 404


def test_products_with_and_without_variants(sandbox):
    """`include=variants` inlines the variants; without it the key is absent."""
    plain = get_json(sandbox, "/v3/catalog/products?limit=250")["data"]
    assert len(plain) == 10 and all("variants" not in p for p in plain)
    full = get_json(sandbox, "/v3/catalog/products?limit=250&include=variants")["data"]
    assert full == sandbox.dataset.products
    picked = get_json(sandbox, "/v3/catalog/products?id:in=2,5&include=variants")["data"]
    assert [p["id"] for p in picked] == [2, 5] and all(p["variants"] for p in picked)
    by_sku = get_json(sandbox, f"/v3/catalog/variants?sku={full[0]['variants'][0]['sku']}")
    assert [v["id"] for v in by_sku["data"]] == [full[0]["variants"][0]["id"]]
    of_product = get_json(sandbox, "/v3/catalog/variants?product_id:in=3")["data"]
    assert of_product == full[2]["variants"]


def test_inventory_filters(sandbox):
    """Inventory items filter by product, variant and sku; one item per variant."""
    items = sandbox.dataset.inventory_items
    assert len(get_json(sandbox, "/v3/inventory/items?limit=250")["data"]) == len(items)
    by_product = get_json(sandbox, "/v3/inventory/items?product_id:in=1,2")["data"]
    assert by_product == [i for i in items if i["identity"]["product_id"] in (1, 2)]
    by_variant = get_json(sandbox, "/v3/inventory/items?variant_id:in=3")["data"]
    assert [i["identity"]["variant_id"] for i in by_variant] == [3]
    sku = items[4]["identity"]["sku"]
    assert get_json(sandbox, f"/v3/inventory/items?sku:in={sku}")["data"] == [items[4]]
    assert any(not loc["settings"]["is_in_stock"] for i in items for loc in i["locations"])


# ---- errors, auth and the quota --------------------------------------------------------------


def test_auth_missing_or_wrong_token_is_401(sandbox):
    """No token or a wrong one gives 401 with a v3 error body (and the rate-limit headers)."""
    for token in (None, "wrong"):
        status, headers, body = get(sandbox, "/v3/customers", token=token)
        assert status == 401 and json.loads(body)["status"] == 401
        assert all(h in headers for h in RATE_HEADERS)


def test_limit_over_250_is_413_and_bad_filters_are_422(sandbox):
    """The page-size ceiling and filter validation answer like the real API."""
    status, _, body = get(sandbox, "/v3/customers?limit=251")
    assert status == 413 and json.loads(body)["status"] == 413
    assert get(sandbox, "/v3/customers?limit=250")[0] == 200
    status, _, body = get(sandbox, "/v3/customers?date_modified:min=yesterday")
    assert status == 422 and "date_modified:min" in json.loads(body)["errors"]
    assert get(sandbox, "/v3/catalog/products?id:in=a,b")[0] == 422
    assert get(sandbox, "/v3/customers?include=everything")[0] == 422


def test_every_response_carries_the_rate_limit_headers(sandbox):
    """200, 204, 401, 404 (unknown order, path, store), 413 and 422 all report the quota."""
    paths = ["/v3/customers", "/v2/orders?page=99", "/v2/orders/1/products", "/v3/nothing",
             "/v3/customers?limit=999", "/v3/customers?sort=sideways"]
    answers = [get(sandbox, p) for p in paths] + [get(sandbox, "/v2/orders", token=None)]
    other_store = urllib.request.Request(f"{sandbox.base_url}/stores/elsewhere/v2/orders",
                                         headers={"X-Auth-Token": TOKEN})
    with pytest.raises(urllib.error.HTTPError) as not_found:
        urllib.request.urlopen(other_store, timeout=10)
    answers.append((not_found.value.code, dict(not_found.value.headers), b""))
    assert [a[0] for a in answers] == [200, 204, 404, 404, 413, 422, 401, 404]
    for _, headers, _ in answers:
        assert headers["X-Rate-Limit-Requests-Quota"] == "10000"
        assert headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
        assert int(headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30000
        assert int(headers["X-Rate-Limit-Requests-Left"]) >= 0


def test_quota_spent_gives_429_until_the_window_resets():
    """quota=5 per second: five admitted, then 429 with the headers, then admitted again."""
    with running_sandbox(config(quota=5, window_ms=1000)) as sandbox:
        lefts = [get(sandbox, "/v3/customers?limit=1")[1]["X-Rate-Limit-Requests-Left"]
                 for _ in range(5)]
        assert lefts == ["4", "3", "2", "1", "0"]
        assert get(sandbox, "/v3/customers", token=None)[0] == 401  # costs no quota
        status, headers, body = get(sandbox, "/v3/customers")
        assert status == 429 and json.loads(body)["status"] == 429
        assert headers["X-Rate-Limit-Requests-Left"] == "0"
        wait_ms = int(headers["X-Rate-Limit-Time-Reset-Ms"])
        assert 0 < wait_ms <= 1000
        time.sleep(wait_ms / 1000 + 0.05)
        status, headers, _ = get(sandbox, "/v3/customers")
        assert status == 200 and headers["X-Rate-Limit-Requests-Left"] == "4"
        stats = sandbox.stats()
        assert stats["quota_429"] == 1 and stats["admitted_per_window"] == [5, 1]
        assert stats["max_admitted_in_window"] <= 5


def test_fixed_window_starts_with_the_first_request_after_expiry():
    """A window opens on the first request after the last one closed; 429s cost nothing."""
    now = [0.0]
    limiter = FixedWindowLimiter(quota=2, window_ms=100, clock=lambda: now[0])
    assert [limiter.admit().allowed for _ in range(3)] == [True, True, False]
    now[0] = 250.0  # long after the window closed: a new one opens *now*, not at 200
    assert limiter.admit().allowed
    now[0] = 340.0
    admission = limiter.admit()
    assert admission.headers["X-Rate-Limit-Time-Reset-Ms"] == "10"
    assert not limiter.admit().allowed and limiter.admitted_per_window() == [2, 2]


def test_stats_count_requests_and_reset(sandbox):
    """The stats endpoint counts requests by stream and status, and can be zeroed."""
    sandbox.reset_stats()
    get(sandbox, "/v3/catalog/variants")
    get(sandbox, "/v3/catalog/variants", token="nope")
    stats = sandbox.stats()
    assert stats["requests_by_stream"] == {"variants": 2}
    assert stats["responses_by_status"] == {"200": 1, "401": 1}


# ---- the data ---------------------------------------------------------------------------------


def test_same_seed_same_data_and_other_seed_other_data():
    """Generation is a pure function of (seed, size, anchor)."""
    size = DatasetSize.scaled(40)
    one, two = (Dataset.generate(3, size, ANCHOR) for _ in range(2))
    assert (one.customers, one.orders, one.order_products, one.products) == (
        two.customers, two.orders, two.order_products, two.products)
    assert Dataset.generate(4, size, ANCHOR).customers != one.customers


def test_dates_and_money_are_in_the_wire_formats(sandbox):
    """v2 dates are RFC-2822, v3 dates ISO-8601 UTC, v2 money 4-decimal strings."""
    order = get_json(sandbox, "/v2/orders?limit=1")[0]
    assert RFC2822.match(order["date_modified"]) and RFC2822.match(order["date_created"])
    customer = get_json(sandbox, "/v3/customers?limit=1")["data"][0]
    assert ISO.match(customer["date_modified"]) and ISO.match(customer["date_created"])
    product = get_json(sandbox, "/v3/catalog/products?limit=1")["data"][0]
    assert ISO.match(product["date_modified"])
    for order in sandbox.dataset.orders:
        for key in ("subtotal_ex_tax", "total_inc_tax", "shipping_cost_inc_tax",
                    "discount_amount", "refunded_amount"):
            assert MONEY.match(order[key]), (key, order[key])


def test_generated_data_is_consistent():
    """References resolve, totals follow the documented rule, dates are ordered and skewed."""
    data = Dataset.generate(11, DatasetSize.scaled(400), ANCHOR)
    customer_ids = {c["id"] for c in data.customers}
    variants = {v["id"]: v for v in data.variants}
    anchor = ANCHOR.timestamp()
    for order in data.orders:
        assert order["customer_id"] == 0 or order["customer_id"] in customer_ids
        assert record_epoch(order["date_created"]) <= record_epoch(order["date_modified"]) < anchor
        d = {k: Decimal(order[k]) for k in ("subtotal_ex_tax", "shipping_cost_inc_tax",
                                            "total_tax", "discount_amount", "total_inc_tax")}
        assert d["total_inc_tax"] == (d["subtotal_ex_tax"] + d["shipping_cost_inc_tax"]
                                      + d["total_tax"] - d["discount_amount"])
        lines = data.order_products[order["id"]]
        assert 1 <= len(lines) <= 4
        assert sum(Decimal(line["total_ex_tax"]) for line in lines) == d["subtotal_ex_tax"]
        assert all(variants[line["variant_id"]]["product_id"] == line["product_id"]
                   for line in lines)
    assert {o["currency_code"] for o in data.orders} == {"KRW", "USD"}
    for order in data.orders:  # the transactional currency is the one the amounts are in
        assert order["default_currency_code"] == order["currency_code"]
        assert order["store_default_currency_code"] == "KRW"
        assert order["customer_locale"] in ("ko-KR", "en-US")
        assert order["ip_address"] or order["ip_address_v6"]
        assert order["ip_address_v6"] == "" or order["ip_address_v6"].count(":") == 7
        lines = data.order_products[order["id"]]
        assert sum(Decimal(line["discounted_total_inc_tax"]) for line in lines) == (
            Decimal(order["subtotal_inc_tax"]) - Decimal(order["discount_amount"]))
    v6 = sum(bool(o["ip_address_v6"]) for o in data.orders) / len(data.orders)
    assert 0.1 < v6 < 0.3
    assert any(o["customer_id"] == 0 for o in data.orders)
    recent = sum(record_epoch(c["date_modified"]) >= anchor - 86_400 for c in data.customers)
    assert 0.05 < recent / len(data.customers) < 0.16
    on_sale = sum(p["sale_price"] > 0 for p in data.products) / len(data.products)
    assert 0.05 < on_sale < 0.4
    assert len(data.inventory_items) == len(variants)
    assert all(m["resource_id"] in customer_ids for m in data.customer_metafields)
    assert 0.35 < len(data.customer_metafields) / len(data.customers) < 0.65


# ---- transport faults ---------------------------------------------------------------------


def test_server_error_fault_answers_5xx_with_a_v3_body():
    """server_error with fraction 1.0 turns every answer into a 500/502/503."""
    with running_sandbox(faulty({"kind": "server_error", "fraction": 1.0})) as sandbox:
        for _ in range(4):
            status, headers, body = get(sandbox, "/v3/customers")
            assert status in (500, 502, 503) and json.loads(body)["status"] == status
            assert all(h in headers for h in RATE_HEADERS)
        assert sandbox.stats()["server_errors"] == 4


def test_truncated_body_is_not_parseable_json():
    """truncated_body serves a 200 whose body stops mid-JSON with a matching Content-Length."""
    plan = faulty({"kind": "truncated_body", "endpoint": "orders", "fraction": 1.0})
    with running_sandbox(plan) as sandbox:
        status, headers, body = get(sandbox, "/v2/orders")
        assert status == 200 and int(headers["Content-Length"]) == len(body) > 0
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)
        assert get(sandbox, "/v3/customers")[0] == 200  # other endpoints are untouched
        assert sandbox.stats()["truncated"] == 1


def test_connection_reset_raises_a_client_connection_error():
    """connection_reset aborts the TCP connection: the client gets no HTTP response at all."""
    plan = faulty({"kind": "connection_reset", "endpoint": "products", "fraction": 1.0})
    with running_sandbox(plan) as sandbox:
        async def fetch() -> None:
            url = f"{sandbox.store_url}/v3/catalog/products"
            async with (aiohttp.ClientSession(headers={"X-Auth-Token": TOKEN}) as session,
                        session.get(url) as reply):
                await reply.read()

        with pytest.raises(aiohttp.ClientConnectionError):
            asyncio.run(fetch())
        assert sandbox.stats()["resets"] >= 1


def test_burst_429_has_no_rate_limit_headers():
    """burst_429 every=3 length=1: each third request is a header-less 429."""
    plan = faulty({"kind": "burst_429", "endpoint": "customers", "every": 3, "length": 1})
    with running_sandbox(plan) as sandbox:
        answers = [get(sandbox, "/v3/customers?limit=1") for _ in range(6)]
        assert [a[0] for a in answers] == [200, 200, 429, 200, 200, 429]
        assert not any(h in answers[2][1] for h in RATE_HEADERS)
        assert all(h in answers[0][1] for h in RATE_HEADERS)
        stats = sandbox.stats()
        assert stats["injected_429"] == 2 and stats["quota_429"] == 0


def test_latency_delays_answers():
    """latency 60-80 ms delays each matching answer by at least min_ms."""
    plan = faulty({"kind": "latency", "endpoint": "variants", "min_ms": 60, "max_ms": 80})
    with running_sandbox(plan) as sandbox:
        started = time.perf_counter()
        assert get(sandbox, "/v3/catalog/variants")[0] == 200
        assert time.perf_counter() - started >= 0.06


# ---- record faults ------------------------------------------------------------------------


def test_null_email_alters_the_same_records_on_every_fetch():
    """Record faults pick records by a stable hash of (seed, kind, id): refetching a page, or
    restarting the server, alters exactly the same customers."""
    fault = {"kind": "null_email", "endpoint": "customers", "fraction": 0.3}
    expected = sorted(c["id"] for c in Dataset.generate(42, SIZE, ANCHOR).customers
                      if stable_unit(7, "null_email", c["id"]) < 0.3)
    assert 0 < len(expected) < 60
    seen = []
    for _ in range(2):
        with running_sandbox(faulty(fault)) as sandbox:
            for _ in range(2):
                served = get_json(sandbox, "/v3/customers?limit=250")["data"]
                seen.append(sorted(c["id"] for c in served if c["email"] is None))
            assert all(c["email"] for c in sandbox.dataset.customers)  # ground truth intact
    assert seen == [expected] * 4


def test_malformed_email_and_negative_total():
    """malformed_email breaks the address's form; negative_total flips order totals."""
    plan = faulty({"kind": "malformed_email", "endpoint": "customers", "fraction": 1.0},
                  {"kind": "negative_total", "endpoint": "orders", "fraction": 1.0})
    valid = re.compile(r"^[^@\s#]+@[^@\s#]+\.[a-z]+$")
    with running_sandbox(plan) as sandbox:
        customers = get_json(sandbox, "/v3/customers?limit=250")["data"]
        assert customers and not any(valid.match(c["email"]) for c in customers)
        for order in get_json(sandbox, "/v2/orders?limit=250"):
            assert order["total_inc_tax"].startswith("-") and MONEY.match(order["total_inc_tax"])


def test_duplicate_id_puts_one_id_on_two_pages():
    """duplicate_id gives a record the id of a record served on another page."""
    plan = faulty({"kind": "duplicate_id", "endpoint": "customers", "fraction": 0.2})
    with running_sandbox(plan) as sandbox:
        pages = v3_all(sandbox, "/v3/customers", limit=10)
        ids = [c["id"] for page in pages for c in page]
        assert len(ids) == 60 and len(set(ids)) < 60
        for dup in {i for i in ids if ids.count(i) > 1}:
            assert len({n for n, page in enumerate(pages) for c in page if c["id"] == dup}) == 2
        assert pages == v3_all(sandbox, "/v3/customers", limit=10)  # stable across refetches


def test_drop_and_retype_column():
    """drop_column removes a field; retype_column serves it with another JSON type."""
    plan = faulty({"kind": "drop_column", "endpoint": "products", "column": "sku"},
                  {"kind": "retype_column", "endpoint": "products", "column": "price",
                   "to": "string"},
                  {"kind": "retype_column", "endpoint": "variants", "column": "id", "to": "null"})
    with running_sandbox(plan) as sandbox:
        products = get_json(sandbox, "/v3/catalog/products")["data"]
        assert all("sku" not in p and isinstance(p["price"], str) for p in products)
        assert all(v["id"] is None for v in get_json(sandbox, "/v3/catalog/variants")["data"])


# ---- loading fault plans ------------------------------------------------------------------


def test_unknown_kind_or_missing_parameter_fails_loading_with_a_clear_message():
    """A bad entry is named by position, kind and endpoint, with the problem."""
    with pytest.raises(FaultPlanError, match=r"fault #2 \(kind 'slow_down'.*unknown kind"):
        FaultPlan.from_dict({"fault": [{"kind": "latency", "min_ms": 1, "max_ms": 2},
                                       {"kind": "slow_down", "endpoint": "orders"}]})
    with pytest.raises(FaultPlanError, match=r"fault #1 .*missing required parameter 'column'"):
        FaultPlan.from_dict({"fault": [{"kind": "drop_column", "endpoint": "orders"}]})
    with pytest.raises(FaultPlanError, match="unknown endpoint"):
        FaultPlan.from_dict({"fault": [{"kind": "null_email", "endpoint": "ordres",
                                        "fraction": 0.1}]})


def test_plans_load_from_toml_files_and_the_environment(tmp_path, monkeypatch):
    """The shipped example plans load, and SANDBOX_FAULT_PLAN names a plan."""
    for example in sorted((ROOT / "sandbox" / "fault_plans").glob("*.toml")):
        assert FaultPlan.load(example).faults, example
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text('seed = 3\n[[fault]]\nendpoint = "orders"\nkind = "server_error"\n'
                         'fraction = 0.5\n')
    monkeypatch.setenv("SANDBOX_FAULT_PLAN", str(plan_file))
    plan = FaultPlan.locate()
    assert plan.seed == 3 and plan.faults[0].kind.name == "server_error"
    plan_file.write_text("[[fault]\nkind=")
    with pytest.raises(FaultPlanError, match=r"plan\.toml"):
        FaultPlan.load(plan_file)


# ---- the command line ---------------------------------------------------------------------


def test_cli_writes_a_ready_file_and_stops_on_sigterm(tmp_path):
    """`python -m sandbox.bigcommerce` serves, announces itself, never prints the token, and
    exits cleanly on SIGTERM, removing its ready file."""
    ready = tmp_path / "ready.json"
    env = {**os.environ, "SANDBOX_ACCESS_TOKEN": "cli-secret", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.bigcommerce", "--port", "0", "--size", "20",
         "--anchor", ANCHOR.isoformat(), "--ready-file", str(ready)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        assert info["pid"] == process.pid and info["store_hash"] == "sandbox"
        request = urllib.request.Request(f"{info['base_url']}/stores/sandbox/v2/orders?limit=1",
                                         headers={"X-Auth-Token": "cli-secret"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert len(json.load(reply)) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert info["base_url"] in out and "cli-secret" not in out + err
    assert not ready.exists()


def _q(value: str) -> str:
    return urllib.request.quote(value, safe="")
