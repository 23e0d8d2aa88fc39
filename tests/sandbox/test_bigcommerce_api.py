"""The BigCommerce sandbox speaks the real API: shapes, paging, filters, auth, quota, the data.

Each test starts (or shares) a small sandbox over real HTTP on 127.0.0.1, so what is proved here
is what a client sees on the wire. The fault plan's kinds are proved in
`test_bigcommerce_fault_plan.py`, the reference's field catalogue in `test_reference_contract.py`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from sandbox.bigcommerce import DatasetSize, running_sandbox
from sandbox.bigcommerce.formats import record_epoch
from sandbox.bigcommerce.ratelimit import FixedWindowLimiter
from tests.sandbox.sandbox_http import ANCHOR, RATE_HEADERS, TOKEN, get, get_json
from tests.sandbox.sandbox_http import config as sized
from tests.sandbox.sandbox_http import v2_pages as v2_all
from tests.sandbox.sandbox_http import v3_pages as v3_all

ROOT = Path(__file__).resolve().parents[2]
SIZE = DatasetSize.scaled(60)
MONEY = re.compile(r"^-?\d+\.\d{4}$")
RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} "
                     r"\+0000$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def config(**overrides):
    return sized(SIZE, **overrides)


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
                                "&sort=date_modified:asc", limit=50)
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
