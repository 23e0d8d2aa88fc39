"""The fault plan's transport and record kinds, as a client meets them on the wire.

What each kind does is in docs/sandbox-fault-plan.md; the source kinds (shared quota, records
modified during a read, ...) are proved in `test_source_behaviours.py`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import aiohttp
import pytest

from sandbox.bigcommerce import (
    Dataset,
    DatasetSize,
    FaultPlan,
    FaultPlanError,
    running_sandbox,
)
from sandbox.bigcommerce.faults import stable_unit
from tests.sandbox.sandbox_http import ANCHOR, RATE_HEADERS, TOKEN, get, get_json
from tests.sandbox.sandbox_http import faulty as sized_faulty
from tests.sandbox.sandbox_http import v3_pages as v3_all

ROOT = Path(__file__).resolve().parents[2]
SIZE = DatasetSize.scaled(60)
MONEY = re.compile(r"^-?\d+\.\d{4}$")


def faulty(*faults: dict, seed: int = 7):
    return sized_faulty(SIZE, *faults, seed=seed)


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
