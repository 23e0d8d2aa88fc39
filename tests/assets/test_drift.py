"""A field BigCommerce adds before the contract names it: held back, reported, then released.

Real extractions through Dagster: the sandbox's `add_field` fault serves a field the reference
does not have yet in a share of the records. Its values must reach no published view and no
check metadata unmasked; the check names it; once a contract names it, the next run publishes
it and `publish-classified` backfills the earlier batches exactly once.
"""

from __future__ import annotations

import dataclasses
import json

import dagster as dg
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from assets.bigcommerce import CUSTOMERS
from assets.factory import build_extraction_asset
from resources.raw_zone.classified import publish_classified
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import extraction_resources, sandbox_config, zone_ref
from tests.assets.test_contract_audits import evaluations, extract

pytestmark = pytest.mark.slow
SECRET = "VIP-7731-토끼"  # a value that must never be seen unmasked outside the unclassified zone


def _field_fault(endpoint: str, field: str) -> dict:
    return {"endpoint": endpoint, "kind": "add_field", "field": field, "value": SECRET,
            "fraction": 0.25}


def _published_records(resources: dict, asset: str) -> list[dict]:
    zone, ref = resources["raw_zone"].zone(), zone_ref(asset)
    with zone.reader([ref]) as db:
        rows = db.execute(f"SELECT record FROM {ref.schema}.{ref.table}__batches").fetchall()
    return [json.loads(row[0]) for row in rows]


def _held(resources: dict, asset: str) -> list[tuple]:
    zone, ref = resources["raw_zone"].zone(), zone_ref(asset)
    with zone.reader([ref]) as db:
        return db.execute(
            f"SELECT field, json_type, value, _pk FROM {ref.unclassified_view}").fetchall()


@pytest.mark.parametrize(("asset", "endpoint", "field"), [
    ("src_customer", "customers", "loyalty_tier"),  # strict contract
    ("src_order", "orders", "channel_tier"),
])
def test_a_new_field_is_held_back_named_and_masked(tmp_path, wise_postgres, asset, endpoint,
                                                   field):
    with running_sandbox(sandbox_config([_field_fault(endpoint, field)])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        result = extract(resources, {asset})
        published = _published_records(resources, asset)
    assert result.success, "drift never blocks"
    held = _held(resources, asset)
    assert held and {(f, t, json.loads(v)) for f, t, v, _ in held} == {(field, "string", SECRET)}
    assert not any(field in record for record in published)
    assert len(published) == result.asset_materializations_for_node(asset)[0].metadata[
        "dagster/row_count"].value
    schema = evaluations(result, asset)["schema_contract"]
    assert not schema.passed and schema.severity == dg.AssetCheckSeverity.WARN
    assert field in schema.description
    shown = json.loads(schema.metadata["unclassified_fields"].value)
    assert shown == [{"field": field, "json_type": "string", "records": len(held),
                      "examples": shown[0]["examples"]}]
    every_value = json.dumps({name: str(value.value) for name, value in schema.metadata.items()},
                             ensure_ascii=False)
    assert SECRET not in every_value and SECRET not in schema.description
    materialized = result.asset_materializations_for_node(asset)[0].metadata
    assert SECRET not in json.dumps({k: str(v.value) for k, v in materialized.items()},
                                    ensure_ascii=False)


def test_a_classified_field_publishes_and_release_backfills_once(tmp_path, wise_postgres):
    """Run 1 holds `loyalty_tier`; a contract naming it publishes it on run 2 (a full
    refresh), and `publish_classified` puts run 1's values back into run 1's batch, only once."""
    class ClassifiedCustomers(CUSTOMERS.contract.model):
        loyalty_tier: Series[str] = pa.Field(nullable=True, description="Loyalty tier.")

    contract = dataclasses.replace(CUSTOMERS.contract, model=ClassifiedCustomers)
    classified = build_extraction_asset(dataclasses.replace(CUSTOMERS, contract=contract))
    with running_sandbox(sandbox_config([_field_fault("customers", "loyalty_tier")])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        assert extract(resources, {"src_customer"}).success
        held = _held(resources, "src_customer")
        second = dg.materialize([classified], resources=resources, run_config={"ops": {
            "src_customer": {"config": {"full_refresh": True}}}})
        assert second.success
    ref = zone_ref("src_customer")
    batches = sorted(resources["raw_zone"].zone().paths.glob(ref).parent.glob("*.parquet"))
    assert len(batches) == 2
    by_batch = _records_by_batch(resources)
    first, latest = by_batch[batches[0].stem], by_batch[batches[1].stem]
    assert sum("loyalty_tier" in r for r in latest) == len(held), "run 2 publishes the field"
    assert not any("loyalty_tier" in r for r in first)

    zone = resources["raw_zone"].zone()
    released = publish_classified(zone.paths, ref, ["loyalty_tier"])
    assert released.total == len(held) and released.batches == {batches[0].stem}
    first = _records_by_batch(resources)[batches[0].stem]
    holders = {pk for _, _, _, pk in held}
    assert {r["id"] for r in first if r.get("loyalty_tier") == SECRET} == holders
    assert not zone.paths.has_batches(ref, zone="unclassified")
    again = publish_classified(zone.paths, ref, ["loyalty_tier"])
    assert again.total == 0 and _records_by_batch(resources)[batches[0].stem] == first


def _records_by_batch(resources: dict) -> dict[str, list[dict]]:
    zone, ref = resources["raw_zone"].zone(), zone_ref("src_customer")
    with zone.reader([ref]) as db:
        rows = db.execute(f"SELECT _batch_id, record FROM {ref.schema}.{ref.table}__batches "
                          "ORDER BY _row").fetchall()
    found: dict[str, list[dict]] = {}
    for batch_id, record in rows:
        found.setdefault(batch_id, []).append(json.loads(record))
    return found
