"""dbt test checks explain themselves: a description on spec and result, and for a failed test
a masked sample of its stored failing rows, their count and, when they trace to rows the raw
zone quarantined, the query that lists those.

The raw zone of a tmp warehouse is filled straight from the sandbox's generator, with two
inconsistencies written in: three customers lose `date_created` (their stored failing rows
carry e-mail, phone and names), and 25 orders' lines sit in the quarantine instead of being
published, so those orders' items_subtotal matches no items.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import dagster as dg
import duckdb
import pytest

from assets.transformer.descriptions import describe_test
from resources.dbt_cli import transformer_cli
from resources.lineage import LineageResource
from resources.postgres import PostgresResource
from resources.raw_zone import RawZone, RawZoneResource
from resources.transformer import manifest_path
from sandbox.bigcommerce.data import Dataset, DatasetSize
from sandbox.postgres_seed import default_anchor
from sandbox.raw_zone_fill import SPECS, stage_records
from tests.assets.support import SIZE
from tests.transformer.test_pipeline import dbt_assets

pytestmark = pytest.mark.slow
SUBTOTAL = "assert_order_items_subtotal_matches_items"
CREATED = "not_null_stg_bigcommerce__customers_created_at"
QUARANTINED_ORDERS = 25
CUSTOMERS_WITHOUT_DATE = 3


def _publish(zone: RawZone, name: str, records: Iterable[dict], quarantined=(),
             modified_at=None) -> None:
    batch = stage_records(zone, name, records, "check-details-test", modified_at)
    for record in quarantined:
        batch.quarantine(rule="not_nullable", column="sku", reason="sku is null",
                         raw=json.dumps(record), pk=record["id"])
    zone.publish(batch)


def fill(zone: RawZone, data: Dataset, wise_postgres) -> tuple[list[dict], set[int]]:
    """Every source table, with the two inconsistencies; returns the customers without a date
    and the orders whose lines are quarantined."""
    undated = data.customers[:CUSTOMERS_WITHOUT_DATE]
    customers = [{k: v for k, v in c.items() if k != "date_created"} for c in undated]
    customers += data.customers[CUSTOMERS_WITHOUT_DATE:]
    _publish(zone, "src_customer", customers)
    _publish(zone, "src_customer_metafields", data.customer_metafields)
    _publish(zone, "src_order", data.orders)
    with zone.reader([SPECS["src_order"].ref]) as db:
        order_time = dict(db.execute("SELECT _pk, _modified_at FROM raw_bigcommerce.orders")
                          .fetchall())
    with_lines = [o["id"] for o in data.orders if data.order_products[o["id"]]]
    held = set(with_lines[:QUARANTINED_ORDERS])
    lines = [line for order_lines in data.order_products.values() for line in order_lines]
    _publish(zone, "src_order_product", [x for x in lines if x["order_id"] not in held],
             quarantined=[x for x in lines if x["order_id"] in held],
             modified_at=lambda r: order_time[r["order_id"]])
    _publish(zone, "src_product", data.products)
    on_sale = {p["id"] for p in data.products if (p["sale_price"] or 0) > 0}
    _publish(zone, "bigcommerce_onsale_product_inventory",
             [i for i in data.inventory_items if i["identity"]["product_id"] in on_sale])
    source = PostgresResource(url=wise_postgres.reader_url)
    for name, table in (("src_point_transaction", "point_transaction"),
                        ("src_quotation", "quotation")):
        _publish(zone, name, (r for chunk in source.stream_table(table) for r in chunk))
    return undated, held


@pytest.fixture(scope="module")
def build(tmp_path_factory, wise_postgres) -> dict:
    folder = tmp_path_factory.mktemp("check_details")
    zone = RawZone(folder / "raw", folder / "warehouse.duckdb")
    data = Dataset.generate(42, DatasetSize.scaled(SIZE), default_anchor())
    undated, held = fill(zone, data, wise_postgres)
    resources = {
        "dbt": transformer_cli("local"),
        "raw_zone": RawZoneResource(root=str(folder / "raw"),
                                    warehouse=str(folder / "warehouse.duckdb")),
        "lineage": LineageResource(file_path=str(folder / "lineage.jsonl")),
    }
    result = dg.materialize([dbt_assets()], resources=resources, raise_on_error=False)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return {"checks": checks, "undated": undated, "held": held,
            "warehouse": str(folder / "warehouse.duckdb")}


def _spec(name: str) -> dg.AssetCheckSpec:
    return next(spec for spec in dbt_assets().check_specs if spec.name == name)


def test_every_dbt_check_spec_says_what_it_checks():
    specs = list(dbt_assets().check_specs)
    assert len(specs) > 150 and all(spec.description for spec in specs)
    assert _spec("unique_fct_order_order_id").description == \
        "no two rows of fct_order share order_id"
    assert _spec("not_null_fct_order_order_id").description == "every fct_order.order_id is set"
    relationship = _spec("relationships_fct_order_customer_id__customer_id__ref_dim_customer_")
    assert relationship.description == \
        "every fct_order.customer_id exists in dim_customer.customer_id (where customer_id <> 0)"
    assert _spec("accepted_values_fct_order_currency_code__KRW__USD").description == \
        "every fct_order.currency_code is one of: KRW, USD"
    assert _spec(SUBTOTAL).description.startswith("Every fct_order.items_subtotal equals the sum")


def test_a_package_test_is_described_by_its_name_and_arguments():
    manifest = json.loads(manifest_path().read_text())
    node = {"name": "t", "attached_node": "model.commerce_governance.fct_order",
            "test_metadata": {"name": "accepted_range", "namespace": "dbt_utils", "kwargs": {
                "column_name": "order_total", "min_value": 0, "inclusive": True,
                "model": "{{ get_where_subquery(ref('fct_order')) }}"}}}
    assert describe_test(manifest, node) == \
        "dbt_utils.accepted_range on fct_order.order_total: inclusive = True; min_value = 0"


def test_a_failed_test_carries_its_description_a_sample_and_the_upstream_query(build):
    check = build["checks"][SUBTOTAL]
    assert not check.passed
    assert check.description == _spec(SUBTOTAL).description
    metadata = check.metadata
    assert metadata["rows_failing"].value == QUARANTINED_ORDERS
    sample = metadata["failing_sample"]
    assert isinstance(sample, dg.TableMetadataValue) and len(sample.records) == 20
    shown = {record.data["order_id"] for record in sample.records}
    assert shown <= build["held"]  # ids are documented without pii: shown as they are
    assert all(isinstance(r.data["items_total"], str) for r in sample.records)  # "null": no items
    assert "5 left out" in metadata["failing_sample_note"].value
    query = metadata["upstream_quarantine"].value
    assert "quarantine.bigcommerce__order_products" in query and "$.order_id" in query
    with duckdb.connect(build["warehouse"], read_only=True) as db:
        listed = db.execute(query.split(";")[0]).fetchall()
    assert {json.loads(row[-1])["order_id"] for row in listed} == build["held"]


def test_personal_data_in_failing_rows_is_masked_everywhere(build):
    check = build["checks"][CREATED]
    assert not check.passed
    assert check.description == "every stg_bigcommerce__customers.created_at is set"
    assert check.metadata["rows_failing"].value == CUSTOMERS_WITHOUT_DATE
    records = [r.data for r in check.metadata["failing_sample"].records]
    assert {r["customer_id"] for r in records} == {c["id"] for c in build["undated"]}
    assert all(ch in "x9" or not ch.isalnum() for r in records for ch in r["email"])
    assert "failing_sample_note" not in check.metadata
    assert "upstream_quarantine" not in check.metadata  # nothing upstream of customers is held
    everything = json.dumps([{k: str(v) for k, v in c.metadata.items()}
                             for c in build["checks"].values()], ensure_ascii=False)
    for customer in build["undated"]:
        for field in ("email", "phone", "first_name", "last_name"):
            if customer.get(field):
                assert customer[field] not in everything, field


def test_a_passing_test_carries_its_description_and_no_sample(build):
    check = build["checks"]["unique_fct_order_order_id"]
    assert check.passed
    assert check.description == "no two rows of fct_order share order_id"
    assert not {"failing_sample", "rows_failing", "upstream_quarantine"} & set(check.metadata)
