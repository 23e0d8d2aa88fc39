"""Contract audits on real extractions: the sandbox serves faulty data, Dagster runs the assets,
and the published zone, the quarantine and the check evaluations show what the policy did.

Each scenario names the fault it injects; the clean-data scenario is the full pipeline test in
`tests/transformer/test_pipeline.py`, which also asserts every contract check passes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import pytest

from assets import EXTRACTION_ASSETS
from checks.masking import mask
from contracts.rules import EMAIL
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import extraction_resources, sandbox_config, zone_ref

pytestmark = pytest.mark.slow


def extract(resources: dict, names: set[str], **config) -> dg.ExecuteInProcessResult:
    assets = [a for a in EXTRACTION_ASSETS if a.key.to_user_string() in names]
    run_config = {"ops": {a.key.to_python_identifier(): {"config": config} for a in assets}}
    return dg.materialize(assets, resources=resources, run_config=run_config,
                          raise_on_error=False)


def evaluations(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    return {e.check_name: e for e in result.get_asset_check_evaluations()
            if e.asset_key == dg.AssetKey(asset)}


def quarantine(resources: dict, asset: str) -> list[tuple]:
    zone = resources["raw_zone"].zone()
    ref = zone_ref(asset)
    with zone.reader([ref]) as db:
        return db.execute(f"SELECT _stage, _rule, _column, _pk, record FROM {ref.quarantine_view} "
                          "ORDER BY _row").fetchall()


def test_a_column_retyped_in_every_record_blocks_the_batch_with_a_schema_reason(
        tmp_path, wise_postgres):
    """`customer_id` sent as a JSON string in every order: the source changed shape, nothing
    is published, and each quarantined row names the rule it broke (it did break it)."""
    fault = {"endpoint": "orders", "kind": "retype_column", "column": "customer_id",
             "to": "string"}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = extract(resources, {"src_order"})
        total = len(api.dataset.orders)
    assert not result.success
    checks = evaluations(result, "src_order")
    schema = checks["schema_contract"]
    assert not schema.passed and schema.severity == dg.AssetCheckSeverity.ERROR
    assert "customer_id" in schema.description and "JSON integer" in schema.description
    quality = checks["quality_expectations"]
    assert not quality.passed and "not run" in quality.description  # never a silent pass
    assert not resources["raw_zone"].zone().paths.has_batches(zone_ref("src_order"))
    rows = quarantine(resources, "src_order")
    assert len(rows) == total
    assert {(stage, rule, column) for stage, rule, column, _, _ in rows} == {
        ("schema_contract", "dtype", "customer_id")
    }


def test_retyped_values_over_the_limit_block_and_each_row_says_what_it_broke(
        tmp_path, wise_postgres):
    """30% of `customer_id` sent as text, over the 1% limit: the batch is blocked as before,
    and the quarantine says `dtype` for exactly the retyped orders and `batch_blocked` (with
    the batch's reason) for the orders that broke nothing themselves."""
    fault = {"endpoint": "orders", "kind": "retype_column", "column": "customer_id",
             "to": "string", "fraction": 0.3}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = extract(resources, {"src_order"})
        total = len(api.dataset.orders)
    assert not result.success
    assert not resources["raw_zone"].zone().paths.has_batches(zone_ref("src_order"))
    rows = quarantine(resources, "src_order")
    assert len(rows) == total
    by_rule: dict[str, set] = {}
    for _, rule, _, pk, record in rows:
        by_rule.setdefault(rule, set()).add(pk)
        retyped = isinstance(json.loads(record)["customer_id"], str)
        assert (rule == "dtype") == retyped, (pk, rule)
    assert set(by_rule) == {"dtype", "batch_blocked"}
    assert 0 < len(by_rule["dtype"]) < total
    schema = evaluations(result, "src_order")["schema_contract"]
    assert schema.severity == dg.AssetCheckSeverity.ERROR
    assert schema.metadata["rows_failing"].value == len(by_rule["dtype"])


@pytest.mark.parametrize(("asset", "endpoint", "column", "size"), [
    ("src_order", "orders", "customer_id", DatasetSize(customers=200, orders=800, products=20)),
    ("src_product", "products", "price", DatasetSize(customers=10, orders=0, products=400)),
])
def test_a_few_retyped_values_quarantine_exactly_their_rows(tmp_path, wise_postgres, asset,
                                                             endpoint, column, size):
    """A value of the wrong JSON type in under 1% of the records (an integer sent as text on
    v2 orders, a price sent as text on v3 products) quarantines exactly those records with rule
    `dtype`; every other record is published and the check WARNs with figures that agree."""
    fault = {"endpoint": endpoint, "kind": "retype_column", "column": column, "to": "string",
             "fraction": 0.008}
    with running_sandbox(sandbox_config([fault], size=size)) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = extract(resources, {asset})
        records = api.dataset.orders if endpoint == "orders" else api.dataset.products
        total = len(records)
    assert result.success
    rows = quarantine(resources, asset)
    retyped = {json.loads(record)["id"] for _, _, _, _, record in rows
               if isinstance(json.loads(record)[column], str)}
    assert rows and len(retyped) == len(rows), "every quarantined record is one the fault retyped"
    assert {(stage, rule, col) for stage, rule, col, _, _ in rows} == {
        ("schema_contract", "dtype", column)}
    schema = evaluations(result, asset)["schema_contract"]
    assert schema.severity == dg.AssetCheckSeverity.WARN and not schema.passed
    assert schema.metadata["rows_failing"].value == len(rows)
    assert schema.metadata["rows_audited"].value == total
    assert schema.metadata["failure_fraction"].value == round(len(rows) / total, 6)
    published = result.asset_materializations_for_node(asset)[0].metadata
    assert published["dagster/row_count"].value == total - len(rows)
    zone = resources["raw_zone"].zone()
    with zone.reader([zone_ref(asset)]) as db:
        ids = {row[0] for row in db.execute(
            f"SELECT _pk FROM {zone_ref(asset).schema}.{zone_ref(asset).table}").fetchall()}
    assert ids == {r["id"] for r in records} - retyped


def test_a_removed_column_blocks_the_batch_naming_the_column(tmp_path, wise_postgres):
    """Customers without `phone`: blocked, and the reason names the missing column."""
    fault = {"endpoint": "customers", "kind": "drop_column", "column": "phone"}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = extract(resources, {"src_customer"})
    assert not result.success
    failure = result.failure_data_for_node("src_customer").error.message
    assert "blocked by its contract" in failure and "'phone' is missing" in failure
    schema = evaluations(result, "src_customer")["schema_contract"]
    assert schema.severity == dg.AssetCheckSeverity.ERROR and "'phone'" in schema.description
    assert not resources["raw_zone"].zone().paths.has_batches(zone_ref("src_customer"))
    assert {row[1:3] for row in quarantine(resources, "src_customer")} == {
        ("column_in_dataframe", "phone")
    }


def test_malformed_emails_under_the_limit_are_quarantined_and_the_rest_published(
    tmp_path, wise_postgres
):
    """3% malformed e-mails: a WARN, those rows quarantined with the e-mail rule, the rest
    published, and no e-mail, phone or name shown unmasked in the check results."""
    fault = {"endpoint": "customers", "kind": "malformed_email", "fraction": 0.03}
    with running_sandbox(sandbox_config([fault], seed=5)) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = extract(resources, {"src_customer"})
        customers = api.dataset.customers
    assert result.success
    schema = evaluations(result, "src_customer")["schema_contract"]
    assert not schema.passed and schema.severity == dg.AssetCheckSeverity.WARN
    rows = quarantine(resources, "src_customer")
    assert rows, "the fault plan should have broken at least one e-mail"
    assert {row[1:3] for row in rows} == {(f"str_matches('{EMAIL}')", "email")}
    assert all(not re.match(EMAIL, json.loads(row[4])["email"]) for row in rows)
    metadata = schema.metadata
    assert metadata["rows_failing"].value == len(rows)
    assert metadata["outcome"].value == "quarantined"
    assert "quarantine.bigcommerce__customers" in metadata["quarantine_query"].value
    batch = metadata["batch_id"].value
    assert metadata["quarantine_path"].value.endswith(
        f"quarantine/bigcommerce/customers/{batch}.parquet")
    assert (resources["raw_zone"].zone().paths.published(
        zone_ref("src_customer"), batch, zone="quarantine") ==
        Path(metadata["quarantine_path"].value)), "the path names the file the rows are in"
    assert Path(metadata["quarantine_path"].value).exists()
    published = result.asset_materializations_for_node("src_customer")[0].metadata
    assert published["dagster/row_count"].value == len(customers) - len(rows)

    shown = "\n".join(str(v.value) for e in result.get_asset_check_evaluations()
                      for v in e.metadata.values())
    shown += "".join(e.description or "" for e in result.get_asset_check_evaluations())
    broken = [json.loads(row[4])["email"] for row in rows]
    assert all(mask(email, "email") in shown for email in broken)  # shown masked...
    for customer in customers:  # ...and no raw value is
        for value in (customer["email"], customer["phone"], customer["first_name"],
                      customer["addresses"][0]["address1"] if customer["addresses"] else None):
            assert not value or value not in shown, f"unmasked PII in check results: {value}"
    assert all(email not in shown for email in broken)  # ...and never raw


def test_ids_duplicated_across_pages_are_caught_by_the_key_rule(tmp_path, wise_postgres):
    """An id served on two pages (of 250 customers each): both copies go to quarantine under
    the key rule, the rest is published, and the published table has each id once. (Customers
    are read in eight creation-time ranges side by side: 4,000 give each range two pages.)"""
    fault = {"endpoint": "customers", "kind": "duplicate_id", "fraction": 0.01}
    size = DatasetSize(customers=4_000, orders=20, products=10)
    with running_sandbox(sandbox_config([fault], seed=5, size=size)) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = extract(resources, {"src_customer"})
    rows = quarantine(resources, "src_customer")
    assert rows and len(rows) % 2 == 0
    assert {row[1:3] for row in rows} == {("field_uniqueness", "id")}
    keys = [row[3] for row in rows]
    assert all(keys.count(key) == 2 for key in keys)
    checks = evaluations(result, "src_customer")
    assert result.success and checks["schema_contract"].severity == dg.AssetCheckSeverity.WARN
    assert not checks["quality_expectations"].passed  # GX's uniqueness agrees
    zone = resources["raw_zone"].zone()
    ref = zone_ref("src_customer")
    with zone.reader([ref]) as db:
        sql = f"SELECT _pk FROM {ref.schema}.{ref.table}__batches"
        published = [key for (key,) in db.execute(sql).fetchall()]
    assert len(published) == len(set(published)) == size.customers - len(rows)
    assert not set(keys) & set(published)



def test_records_rejected_while_parsing_count_in_the_checks_figures(tmp_path, wise_postgres):
    """Customers without `date_modified` never reach the frame (the parser rejects them), yet
    the check's description, `rows_audited`, `rows_failing`, `failure_fraction`, rules table
    and sample all count them, and agree with the quarantine."""
    fault = {"endpoint": "customers", "kind": "drop_column", "column": "date_modified",
             "fraction": 0.02}
    with running_sandbox(sandbox_config([fault], seed=3)) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = extract(resources, {"src_customer"})
        total = len(api.dataset.customers)
    assert result.success
    rows = quarantine(resources, "src_customer")
    assert rows and {row[1] for row in rows} == {"modified_at_present"}
    schema = evaluations(result, "src_customer")["schema_contract"]
    metadata = schema.metadata
    assert metadata["rows_audited"].value == total
    assert metadata["rows_failing"].value == len(rows)
    assert metadata["failure_fraction"].value == round(len(rows) / total, 6)
    assert f"{len(rows)} of {total} rows of bigcommerce.customers" in schema.description
    assert "modified_at_present" in {r.data["rule"] for r in metadata["rules"].records}
    parsed = [r for r in metadata["failing_sample"].records if r.data["row"] == "(parse)"]
    assert len(parsed) == min(len(rows), 5)
