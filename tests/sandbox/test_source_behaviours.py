"""The sandbox's real-API behaviours (the fault plan's source kinds and `add_field`), seen from
the HTTP side: each test starts a small sandbox on 127.0.0.1 and reads it as a client would.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from urllib.parse import quote

import pytest

from sandbox.bigcommerce import Dataset, FaultPlan, FaultPlanError, SandboxConfig, running_sandbox
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.faults import stable_unit
from sandbox.bigcommerce.formats import record_epoch
from sandbox.bigcommerce.ratelimit import FixedWindowLimiter
from tests.sandbox.sandbox_http import TOKEN, get, get_json

ANCHOR = datetime(2025, 1, 15, 12, tzinfo=UTC)  # long before now: a modification sorts last
SIZE = DatasetSize(customers=60, orders=120, products=12)
SEED = 11


def sandbox_with(*faults: dict, size: DatasetSize = SIZE, **overrides):
    plan = FaultPlan.from_dict({"seed": SEED, "fault": list(faults)})
    settings = {"access_token": TOKEN, "size": size, "anchor": ANCHOR, "quota": 10_000}
    return running_sandbox(SandboxConfig(**{**settings, "fault_plan": plan, **overrides}))


def v2_pages(sandbox, path: str, limit: int) -> list[list[dict]]:
    sep, pages = "&" if "?" in path else "?", []
    while True:
        status, _, body = get(sandbox, f"{path}{sep}limit={limit}&page={len(pages) + 1}")
        if status == 204:
            return pages
        assert status == 200, (path, status, body[:200])
        pages.append(json.loads(body))


def cents(value: str) -> int:
    return int(Decimal(value) * 100)


# ---- shared_quota ---------------------------------------------------------------------------


def test_shared_quota_counts_the_other_app_spread_over_the_window():
    """quota 10, the other app 50%: by 600 ms into the window it spent 3, so ours gets 7 and
    the 8th is refused while ours says 3 left; a closed window keeps (ours, theirs)."""
    now = [0.0]
    limiter = FixedWindowLimiter(quota=10, window_ms=1000, clock=lambda: now[0], other_share=0.5)
    assert limiter.admit().allowed
    now[0] = 600.0
    assert [limiter.admit().allowed for _ in range(7)] == [True] * 6 + [False]
    refused = limiter.admit()
    assert not refused.allowed and refused.headers["X-Rate-Limit-Requests-Left"] == "3"
    assert refused.headers["X-Rate-Limit-Time-Reset-Ms"] == "400"
    assert refused.headers["X-Retry-After"] == "1"
    assert limiter.other_app_per_window() == [3]  # the store is spent: it gets no more either
    now[0] = 1000.0
    assert limiter.admit().allowed  # a new window
    now[0] = 2000.0
    assert limiter.admitted_per_window() == [7, 1]
    assert limiter.other_app_per_window() == [3, 5]  # a quiet window: the whole share


def test_a_shared_quota_429_says_requests_left_and_retry_after_over_http():
    share = {"kind": "shared_quota", "share": 0.5}
    with sandbox_with(share, quota=20, window_ms=500) as sandbox:
        assert get(sandbox, "/v3/customers?limit=1")[0] == 200  # opens the window
        time.sleep(0.3)  # the other app has spent about 6 by now
        statuses, headers = [], {}
        while not statuses or statuses[-1] != 429:
            status, headers, body = get(sandbox, "/v3/customers?limit=1")
            statuses.append(status)
        ours = statuses.count(200) + 1
        assert 1 < ours < 20
        assert headers["X-Rate-Limit-Requests-Left"] == str(20 - ours) != "0"
        assert json.loads(body)["status"] == 429
        reset_ms = int(headers["X-Rate-Limit-Time-Reset-Ms"])
        assert headers["X-Retry-After"] == str(-(-reset_ms // 1000))
        stats = sandbox.stats()
        assert stats["quota_429"] == 1 and stats["other_app_share"] == 0.5
        assert stats["admitted_per_window"] == [ours]
        assert stats["other_app_per_window"] == [20 - ours]  # ours + theirs filled the quota
        time.sleep(reset_ms / 1000 + 0.05)
        status, headers, _ = get(sandbox, "/v3/customers?limit=1")
        assert status == 200 and headers["X-Rate-Limit-Requests-Left"] == "19"
        time.sleep(0.55)  # let the second window close quietly
        stats = sandbox.stats()
    assert stats["admitted_per_window"] == [ours, 1]
    assert stats["other_app_per_window"] == [20 - ours, 10]
    assert stats["other_app_requests"] == 30 - ours


def test_every_quota_429_carries_retry_after():
    with sandbox_with(quota=2, window_ms=400) as sandbox:
        for _ in range(2):
            assert get(sandbox, "/v2/orders?limit=1")[0] == 200
        status, headers, _ = get(sandbox, "/v2/orders?limit=1")
    assert status == 429 and headers["X-Rate-Limit-Requests-Left"] == "0"
    assert headers["X-Retry-After"] == "1"


# ---- modify_during_read ---------------------------------------------------------------------


def bound_now() -> datetime:
    """The run's start as a client would take it, in whole seconds, safely before the edits."""
    bound = datetime.now(UTC).replace(microsecond=0)
    time.sleep(0.05)
    return bound


def test_modified_customers_move_to_the_end_and_leave_a_bounded_listing():
    modify = {"kind": "modify_during_read", "endpoint": "customers", "per_request": 3}
    with sandbox_with(modify) as sandbox:
        bound = bound_now().strftime("%Y-%m-%dT%H:%M:%SZ")
        every = {c["id"] for c in sandbox.dataset.customers}
        listing = f"/v3/customers?sort=date_modified:asc&limit=250&date_modified:max={bound}"
        first = get_json(sandbox, listing)["data"]
        assert {c["id"] for c in first} == every  # nothing was modified before the first answer
        modified = sandbox.stats()["modified"]["customers"]
        assert len(modified) == 3
        assert {c["id"] for c in get_json(sandbox, listing)["data"]} == every - set(modified)

        after_two = set(sandbox.stats()["modified"]["customers"])
        unbounded = get_json(sandbox, "/v3/customers?sort=date_modified:asc&limit=250")["data"]
        assert 3 < len(after_two) <= 6
        tail = unbounded[-len(after_two):]
        assert {c["id"] for c in tail} == after_two  # the modified ones sort last
        assert all(record_epoch(c["date_modified"]) > time.time() - 5 for c in tail)
        assert tail[0]["date_modified"].endswith("Z")  # v3 dates stay ISO-8601
        truth = {c["id"]: c for c in sandbox.dataset.customers}
        assert all(truth[c["id"]]["date_modified"] == c["date_modified"] for c in tail)


def test_modified_orders_keep_the_v2_date_format_and_are_drawn_over_the_whole_table():
    modify = {"kind": "modify_during_read", "endpoint": "orders", "per_request": 5, "after": 2}
    with sandbox_with(modify) as sandbox:
        bound = format_datetime(bound_now())
        listing = f"/v2/orders?sort=date_modified:asc&limit=10&max_date_modified={quote(bound)}"
        get_json(sandbox, listing)
        assert sandbox.stats()["modified"]["orders"] == []  # after = 2: one request before
        first_page = [o["id"] for o in get_json(sandbox, listing)]
        for _ in range(3):
            get_json(sandbox, listing)
        modified = set(sandbox.stats()["modified"]["orders"])
        assert 5 < len(modified) <= 20
        assert modified - set(first_page), "drawn only from the page being read"
        rest = [o["id"] for page in v2_pages(sandbox, f"/v2/orders?sort=date_modified:asc"
                                                      f"&max_date_modified={quote(bound)}", 250)
                for o in page]
        assert not modified & set(rest)  # the bounded listing no longer has them
        truth = {o["id"]: o for o in sandbox.dataset.orders}
        stamp = truth[min(modified)]["date_modified"]
        assert stamp.endswith("+0000") and record_epoch(stamp) > time.time() - 5


def test_after_zero_modifies_before_the_first_request():
    modify = {"kind": "modify_during_read", "endpoint": "products", "after": 0}
    with sandbox_with(modify) as sandbox:
        assert len(sandbox.stats()["modified"]["products"]) == 1


# ---- deleted_orders -------------------------------------------------------------------------


def test_deleted_orders_stay_listed_but_their_lines_answer_a_v2_404():
    deleted = {"kind": "deleted_orders", "endpoint": "order_products", "fraction": 0.2}
    with sandbox_with(deleted) as sandbox:
        listed = [o["id"] for page in v2_pages(sandbox, "/v2/orders", 250) for o in page]
        chosen = sorted(i for i in listed if stable_unit(SEED, "deleted_orders", i) < 0.2)
        assert chosen and listed == [o["id"] for o in sandbox.dataset.orders]
        assert sandbox.stats()["deleted_orders"] == chosen
        status, _, body = get(sandbox, f"/v2/orders/{chosen[0]}/products")
        assert status == 404
        [error] = json.loads(body)
        assert set(error) == {"status", "message"} and error["status"] == 404
        kept = next(i for i in listed if i not in chosen)
        assert get(sandbox, f"/v2/orders/{kept}/products")[0] == 200
        get(sandbox, f"/v2/orders/{chosen[-1]}/products")
        assert sandbox.stats()["deleted_order_404"] == 2


# ---- many_lines -----------------------------------------------------------------------------


def test_many_lines_orders_page_past_250_and_their_totals_add_up():
    many = {"kind": "many_lines", "endpoint": "orders", "fraction": 0.1, "lines": 260}
    clean = Dataset.generate(42, SIZE, ANCHOR)
    before = {o["id"]: o for o in clean.orders}
    with sandbox_with(many) as sandbox:
        chosen = sandbox.stats()["many_lines_orders"]
        assert chosen == sorted(o["id"] for o in clean.orders
                                if stable_unit(SEED, "many_lines", o["id"]) < 0.1)
        orders = {o["id"]: o for page in v2_pages(sandbox, "/v2/orders", 250) for o in page}
        products = {p["id"]: {v["id"] for v in p["variants"]} for p in sandbox.dataset.products}
        every_line_id = [line["id"] for lines in sandbox.dataset.order_products.values()
                         for line in lines]
        assert len(every_line_id) == len(set(every_line_id))
        status, _, _ = get(sandbox, f"/v2/orders/{chosen[0]}/products?limit=251")
        assert status == 413
        for order_id in chosen:
            pages = v2_pages(sandbox, f"/v2/orders/{order_id}/products", 250)
            assert [len(p) for p in pages] == [250, 10]
            lines = [line for page in pages for line in page]
            assert len({line["id"] for line in lines}) == 260
            assert sum(len(p) for p in v2_pages(sandbox, f"/v2/orders/{order_id}/products",
                                                50)) == 260  # default-sized pages reach it too
            order, old = orders[order_id], before[order_id]
            shape = set(clean.order_products[order_id][0])
            for line in lines:
                assert set(line) == shape and line["order_id"] == order_id
                assert line["variant_id"] in products[line["product_id"]]
            extra = lines[len(clean.order_products[order_id]):]
            assert all(line["quantity"] == 1 for line in extra)
            assert order["items_total"] == sum(line["quantity"] for line in lines)
            for total, part in (("subtotal_ex_tax", "total_ex_tax"),
                                ("subtotal_inc_tax", "total_inc_tax")):
                assert cents(order[total]) == sum(cents(line[part]) for line in lines)
            for total in ("total_ex_tax", "total_inc_tax", "total_tax"):
                raised = cents(order[total]) - cents(old[total])
                assert raised == sum(cents(line[total]) for line in extra), (order_id, total)
            assert cents(order["total_inc_tax"]) - cents(order["total_ex_tax"]) \
                == cents(order["total_tax"])
        untouched = next(i for i in orders if i not in chosen)
        assert orders[untouched]["total_inc_tax"] == before[untouched]["total_inc_tax"]


# ---- add_field ------------------------------------------------------------------------------


def test_add_field_appears_in_its_fraction_the_same_on_every_fetch():
    value = {"tier": "gold", "points": 120}
    add = {"kind": "add_field", "endpoint": "customers", "field": "loyalty", "value": value,
           "fraction": 0.3}
    with sandbox_with(add, {"kind": "add_field", "field": "channel_note", "value": "beta",
                            "fraction": 1.0}) as sandbox:
        served = get_json(sandbox, "/v3/customers?limit=250")["data"]
        again = get_json(sandbox, "/v3/customers?limit=250")["data"]
        orders = get_json(sandbox, "/v2/orders?limit=5")
    assert served == again
    having = {c["id"] for c in served if "loyalty" in c}
    assert having == {c["id"] for c in served if stable_unit(SEED, "add_field", c["id"]) < 0.3}
    assert 0.1 < len(having) / len(served) < 0.5
    assert all(c["loyalty"] == value for c in served if c["id"] in having)
    assert all(o["channel_note"] == "beta" for o in orders)  # "*" reaches every endpoint


# ---- loading --------------------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "message"), [
    ({"kind": "shared_quota", "share": 0.95}, r"'share' must be <= 0\.9"),
    ({"kind": "shared_quota", "endpoint": "orders", "share": 0.3},
     r"shared_quota applies to endpoint '\*' only"),
    ({"kind": "modify_during_read", "endpoint": "variants"}, r"applies to endpoint 'customers'"),
    ({"kind": "modify_during_read", "endpoint": "orders", "per_request": 0},
     r"'per_request' must be >= 1"),
    ({"kind": "deleted_orders", "endpoint": "orders", "fraction": 0.1},
     r"applies to endpoint 'order_products' only"),
    ({"kind": "many_lines", "endpoint": "orders", "fraction": 0.1, "lines": 0},
     r"'lines' must be >= 1"),
    ({"kind": "add_field", "endpoint": "customers", "field": "email", "value": "x",
      "fraction": 0.1}, r"'email' is already a field of customers"),
    ({"kind": "add_field", "field": "date_modified", "value": 1, "fraction": 0.1},
     r"'date_modified' is already a field of"),
    ({"kind": "add_field", "field": "x", "value": {"at": datetime(2025, 1, 1)}, "fraction": 0.1},
     r"only JSON values"),
    ({"kind": "add_field", "field": "x", "fraction": 0.1}, r"missing required parameter 'value'"),
])
def test_bad_source_parameters_fail_loading_naming_the_entry(entry, message):
    plan = {"fault": [{"kind": "latency", "min_ms": 1, "max_ms": 2}, entry]}
    with pytest.raises(FaultPlanError, match=rf"fault #2 \(kind '{entry['kind']}'.*{message}"):
        FaultPlan.from_dict(plan)


def test_a_second_shared_quota_entry_is_refused():
    entry = {"kind": "shared_quota", "share": 0.2}
    with pytest.raises(FaultPlanError, match=r"fault #2 .*only one shared_quota entry.*#1"):
        FaultPlan.from_dict({"fault": [entry, entry]})
