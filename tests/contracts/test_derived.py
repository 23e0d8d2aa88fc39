"""What is derived from the contracts stays derived: the dbt sources, the raw views' columns,
the Dagster column schema, and the checks a new contract brings with it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import dagster as dg
import pytest

from assets import EXTRACTION_ASSETS, EXTRACTION_SPECS
from assets.factory import build_extraction_asset
from assets.transformer.sources import rendered
from assets.wise import QUOTATIONS
from checks import CHECK_NAMES
from contracts import CONTRACTS, contract_for
from contracts.derive import ENVELOPE
from resources.lineage import LineageResource
from resources.postgres import PostgresResource
from resources.raw_zone import RawZone, RawZoneResource
from resources.transformer import manifest_path, transformer_project
from sandbox.bigcommerce.data import Dataset, DatasetSize


def test_the_dbt_sources_files_are_exactly_what_the_contracts_render():
    """Fails when a contract changes and `python3 run.py contracts` was not run (or a sources
    file was edited by hand)."""
    for path, text in rendered(EXTRACTION_SPECS).items():
        assert path.read_text() == text, f"{path} drifted: run `python3 run.py contracts`"


def test_dbt_sees_every_contract_column_with_its_description_and_pii_class():
    manifest = json.loads(manifest_path(transformer_project()).read_text())
    sources = {(s["source_name"], s["name"]): s for s in manifest["sources"].values()}
    for contract in CONTRACTS:
        columns = sources[(contract.source, contract.table)]["columns"]
        for column in contract.columns:
            documented = columns[column.name]
            assert documented["description"] == column.description
            assert documented["config"]["meta"].get("pii") == column.pii


@pytest.mark.parametrize("asset", EXTRACTION_ASSETS, ids=lambda a: a.key.to_user_string())
def test_each_extraction_asset_carries_its_contract(asset):
    spec = next(s for s in EXTRACTION_SPECS if s.key == asset.key)
    schema = asset.specs_by_key[asset.key].metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns] == [c.name for c in spec.contract.columns]
    pii = {c.name: c.tags.get("pii") for c in schema.columns if c.tags.get("pii")}
    assert pii == spec.contract.pii_columns
    names = {check.name for check in asset.check_specs}
    assert names == set(CHECK_NAMES) and all(check.blocking for check in asset.check_specs)


def test_the_raw_view_is_the_envelope_and_the_record(tmp_path):
    """The view types no field: the dbt staging models are the one parse of `record`."""
    spec = next(s for s in EXTRACTION_SPECS if s.name == "src_customer")
    customers = Dataset.generate(7, DatasetSize.scaled(20), datetime.now(UTC)).customers
    zone = RawZone(tmp_path / "raw", tmp_path / "w.duckdb")
    batch = zone.stage(spec.ref, "run")
    for customer in customers:
        batch.add(customer["id"], batch.extracted_at, json.dumps(customer, ensure_ascii=False))
    batch.seal()
    zone.publish(batch)
    with zone.reader([spec.ref]) as db:
        columns = [name for (name,) in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "'raw_bigcommerce' AND table_name = 'customers' ORDER BY ordinal_position"
        ).fetchall()]
        first = db.execute("SELECT record FROM raw_bigcommerce.customers ORDER BY _pk "
                           "LIMIT 1").fetchone()[0]
    assert columns == [name for name, _ in ENVELOPE]
    assert json.loads(first) == min(customers, key=lambda c: c["id"])


@pytest.mark.slow
def test_a_new_contract_brings_both_checks_with_no_other_code(tmp_path, wise_postgres):
    """A new table (here: an archive copy of the quotations) is a contract and a spec; the
    factory gives its asset both blocking checks, and they run on its first batch."""
    archive = dataclasses.replace(contract_for("wise", "quotations"), table="quotation_archive")
    spec = dataclasses.replace(QUOTATIONS, name="src_quotation_archive", contract=archive)
    asset = build_extraction_asset(spec)  # the same reader: the quotation table
    assert {check.name for check in asset.check_specs} == set(CHECK_NAMES)
    result = dg.materialize([asset], resources={
        "wise_postgres": PostgresResource(url=wise_postgres.reader_url),
        "raw_zone": RawZoneResource(root=str(tmp_path / "raw"),
                                    warehouse=str(tmp_path / "w.duckdb")),
        "lineage": LineageResource(file_path=str(tmp_path / "events.jsonl")),
    })
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == set(CHECK_NAMES)
    assert all(e.passed for e in evaluations)
    zone = RawZone(tmp_path / "raw", tmp_path / "w.duckdb")
    with zone.reader([spec.ref]) as db:
        assert db.execute("SELECT count(*) FROM raw_wise.quotation_archive").fetchone()[0] > 0
