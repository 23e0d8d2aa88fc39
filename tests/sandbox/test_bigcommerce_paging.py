"""Stable paging and filters the client relies on.

The conventions proved here are the ones the client uses: v3 cursor paging (`after`/`before`,
`meta.cursor_pagination`) on customers and customer metafields, id ranges and id order on v3
products and v2 orders, and the v2 `sort=<field>[:asc|:desc]` forms.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from email.utils import format_datetime
from urllib.parse import quote

import pytest

from sandbox.bigcommerce import DatasetSize, running_sandbox
from sandbox.bigcommerce.formats import record_epoch
from sandbox.bigcommerce.query import encode_cursor
from tests.sandbox.sandbox_http import ANCHOR, config, get, get_json, v2_pages

SIZE = DatasetSize.scaled(150)


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(config(SIZE)) as handle:
        yield handle


def cursor_read(sandbox, path: str, limit: int) -> list[list[dict]]:
    """Every page of a v3 list by following `meta.cursor_pagination.links.next`."""
    body = get_json(sandbox, f"{path}{'&' if '?' in path else '?'}limit={limit}")
    pages = [body["data"]]
    while "next" in body["meta"]["cursor_pagination"]["links"]:
        body = get_json(sandbox, path.split("?")[0] + body["meta"]["cursor_pagination"]
                        ["links"]["next"])
        pages.append(body["data"])
    return pages


@pytest.mark.parametrize(("path", "records"), [
    ("/v3/customers", "customers"), ("/v3/customers/metafields", "customer_metafields")])
def test_cursor_paging_reads_every_record_once_in_id_order(sandbox, path, records):
    truth = [r["id"] for r in getattr(sandbox.dataset, records)]
    pages = cursor_read(sandbox, path, limit=40)
    assert [r["id"] for page in pages for r in page] == truth
    assert all(len(page) == 40 for page in pages[:-1]) and len(pages) == -(-len(truth) // 40)


def test_cursor_meta_and_after_before_semantics(sandbox):
    """`after` reads strictly after the cursor's id, whatever `page` says; `before` gives the
    records just before it; the meta blocks agree with the page."""
    ids = [c["id"] for c in sandbox.dataset.customers]
    body = get_json(sandbox, f"/v3/customers?limit=10&after={encode_cursor(37)}&page=5")
    assert [c["id"] for c in body["data"]] == ids[37:47]
    cursors = body["meta"]["cursor_pagination"]
    assert cursors["count"] == 10 and cursors["per_page"] == 10
    assert cursors["start_cursor"] == encode_cursor(38) and cursors["end_cursor"] == \
        encode_cursor(47)
    assert cursors["links"]["next"] == f"?limit=10&after={encode_cursor(47)}"
    assert cursors["links"]["previous"] == f"?limit=10&before={encode_cursor(38)}"
    paging = body["meta"]["pagination"]
    assert paging["total"] == 150 - 37 and paging["count"] == 10 and paging["current_page"] == 1
    assert paging["links"]["next"] == cursors["links"]["next"]
    before = get_json(sandbox, f"/v3/customers?limit=10&before={encode_cursor(38)}")
    assert [c["id"] for c in before["data"]] == ids[27:37]
    first = get_json(sandbox, f"/v3/customers?limit=10&before={encode_cursor(4)}")
    assert [c["id"] for c in first["data"]] == [1, 2, 3]
    assert "previous" not in first["meta"]["cursor_pagination"]["links"]
    end = get_json(sandbox, f"/v3/customers?limit=10&after={encode_cursor(150)}")
    assert end["data"] == [] and end["meta"]["cursor_pagination"]["end_cursor"] is None
    plain = get_json(sandbox, "/v3/customers?limit=10&page=2")["meta"]["cursor_pagination"]
    assert plain["start_cursor"] == encode_cursor(11) and "next" in plain["links"]


def test_cursor_paging_keeps_filters_and_refuses_what_it_cannot_honour(sandbox):
    since = ANCHOR - timedelta(days=200)
    iso = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    truth = [c["id"] for c in sandbox.dataset.customers
             if record_epoch(c["date_created"]) >= since.timestamp()]
    pages = cursor_read(sandbox, f"/v3/customers?date_created:min={iso}", limit=5)
    assert [c["id"] for p in pages for c in p] == truth and len(pages) > 1
    for query, name in (("after=bm90LWFuLWlk", "after"), ("after=MQ&before=Mg", "before"),
                        ("after=MQ&sort=date_modified:asc", "after")):
        status, _, body = get(sandbox, f"/v3/customers?{query}")
        assert status == 422 and name in json.loads(body)["errors"], query
    status, _, _ = get(sandbox, "/v3/customers/metafields?after=MQ&direction=desc")
    assert status == 422


def test_v3_product_id_ranges_and_order(sandbox):
    ids = [p["id"] for p in sandbox.dataset.products]
    cases = {"id:min=3&id:max=7": ids[2:7], "id:greater=3&id:less=7": ids[3:6],
             "sort=id&direction=desc&id:max=5": ids[4::-1], "id:not_in=1,2": ids[2:]}
    for query, expected in cases.items():
        got = get_json(sandbox, f"/v3/catalog/products?{query}&limit=250")["data"]
        assert [p["id"] for p in got] == expected, query
    bound = ANCHOR - timedelta(days=10)
    iso = bound.strftime("%Y-%m-%dT%H:%M:%SZ")
    got = get_json(sandbox, f"/v3/catalog/products?date_modified:max={iso}&sort=id"
                            "&direction=asc&limit=250")["data"]
    assert [p["id"] for p in got] == [p["id"] for p in sandbox.dataset.products
                                      if record_epoch(p["date_modified"]) <= bound.timestamp()]


def test_v2_order_id_ranges_sorts_and_bounds(sandbox):
    orders = sandbox.dataset.orders
    ids = [o["id"] for o in orders]
    assert [o["id"] for p in v2_pages(sandbox, "/v2/orders?min_id=120&max_id=180&sort=id:asc",
                                      limit=25) for o in p] == ids[20:81]
    assert [o["id"] for o in get_json(sandbox, "/v2/orders?sort=id:desc&limit=3")] == \
        ids[::-1][:3]
    by_date = [o["id"] for p in v2_pages(sandbox, "/v2/orders?sort=date_created", limit=250)
               for o in p]
    assert by_date == [o["id"] for o in sorted(orders, key=lambda o: (
        record_epoch(o["date_created"]), o["id"]))]
    bound = format_datetime(ANCHOR - timedelta(days=3))
    got = {o["id"] for p in v2_pages(sandbox, f"/v2/orders?max_date_modified={quote(bound)}",
                                     limit=250) for o in p}
    assert got == {o["id"] for o in orders if record_epoch(o["date_modified"])
                   <= (ANCHOR - timedelta(days=3)).timestamp()}


def test_filters_read_from_the_reference_names(sandbox):
    customer = sandbox.dataset.customers[4]
    name = f"{customer['first_name']} {customer['last_name']}"
    got = get_json(sandbox, f"/v3/customers?name:in={quote(name)}&limit=250")["data"]
    assert customer["id"] in [c["id"] for c in got]
    assert all(f"{c['first_name']} {c['last_name']}" == name for c in got)
    email = quote(customer["email"])
    assert [c["id"] for c in get_json(sandbox, f"/v3/customers?email:in={email}")["data"]] == \
        [customer["id"]]
    category = sandbox.dataset.products[0]["categories"][0]
    got = get_json(sandbox, f"/v3/catalog/products?categories={category}&limit=250")["data"]
    assert [p["id"] for p in got] == [p["id"] for p in sandbox.dataset.products
                                      if category in p["categories"]]
    assert get_json(sandbox, "/v3/catalog/products?channel_id:in=2")["data"] == []
    order = sandbox.dataset.orders[7]
    got = get_json(sandbox, f"/v2/orders?email={quote(order['billing_address']['email'])}")
    assert order["id"] in [o["id"] for o in got]
    total = Decimal(order["total_inc_tax"])
    got = v2_pages(sandbox, f"/v2/orders?min_total={total}&max_total={total}", limit=250)
    assert all(Decimal(o["total_inc_tax"]) == total for p in got for o in p)


def test_include_fields_and_exclude_fields(sandbox):
    got = get_json(sandbox, "/v3/catalog/products?include_fields=name,price&limit=2")["data"]
    assert [set(p) for p in got] == [{"id", "name", "price"}] * 2
    got = get_json(sandbox, "/v3/catalog/variants?exclude_fields=sku,upc&limit=2")["data"]
    assert got and all("sku" not in v and "upc" not in v and "id" in v for v in got)
    status, _, body = get(sandbox, "/v3/catalog/variants?exclude_fields=colour")
    assert status == 422 and "exclude_fields" in json.loads(body)["errors"]


def test_order_includes_add_fees_and_consignments_only_when_asked(sandbox):
    plain = get_json(sandbox, "/v2/orders?limit=5")
    assert not {"fees", "consignments"} & {k for o in plain for k in o}
    full = get_json(sandbox, "/v2/orders?limit=5&include=fees,consignments.line_items")
    for order in full:
        assert order["fees"] == []
        (shipping,) = order["consignments"]["shipping"]
        lines = sandbox.dataset.order_products[order["id"]]
        # Whole, as /products serves them (BigCommerce's reference: `orderProducts`).
        assert shipping["line_items"] == get_json(sandbox, f"/v2/orders/{order['id']}/products")
        assert {line["order_address_id"] for line in lines} == {shipping["id"]}
    named = get_json(sandbox, "/v2/orders?limit=5&include=consignments")
    for order in named:
        (shipping,) = order["consignments"]["shipping"]
        lines = sandbox.dataset.order_products[order["id"]]
        assert [item["resource"] for item in shipping["line_items"]] == [
            f"/orders/{order['id']}/products/{line['id']}" for line in lines]
