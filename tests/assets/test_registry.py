"""One spec per source table, and every name it gives is real: its contract, its raw table, the
dbt staging model reading that table, and the dbt source pointing back at its asset."""

from __future__ import annotations

import json

import yaml

from assets import EXTRACTION_ASSETS, EXTRACTION_SPECS
from assets.transformer.sources import SOURCES, sources_path
from contracts import CONTRACTS
from resources.transformer import TRANSFORMER_DIR, manifest_path, transformer_project

HISTORY_SUFFIX = "__batches"  # the raw zone's every-batch view of a snapshot table


def test_each_contract_has_exactly_one_spec_and_one_asset():
    named = [spec.contract.qualified_name for spec in EXTRACTION_SPECS]
    assert sorted(named) == sorted(c.qualified_name for c in CONTRACTS)
    assert len({spec.name for spec in EXTRACTION_SPECS}) == len(EXTRACTION_SPECS)
    assert [a.key for a in EXTRACTION_ASSETS] == [spec.key for spec in EXTRACTION_SPECS]


def test_each_spec_names_its_raw_table_and_lineage_job():
    for spec, asset in zip(EXTRACTION_SPECS, EXTRACTION_ASSETS, strict=True):
        contract = spec.contract
        assert spec.raw_table == f"raw_{contract.source}.{contract.table}"
        assert asset.specs_by_key[spec.key].metadata["raw_table"] == spec.raw_table
        assert spec.lineage_job == spec.name
        assert spec.reader.resource_key in asset.required_resource_keys


def test_each_contract_has_its_staging_model_reading_its_source():
    manifest = json.loads(manifest_path(transformer_project()).read_text())
    models = {node["name"]: node for node in manifest["nodes"].values()
              if node["resource_type"] == "model"}
    for spec in EXTRACTION_SPECS:
        contract = spec.contract
        assert spec.staging_model in models, f"{contract.qualified_name}: no {spec.staging_model}"
        source = f"source.commerce_governance.{contract.source}.{contract.table}"
        assert source in models[spec.staging_model]["depends_on"]["nodes"], spec.staging_model
        folder = TRANSFORMER_DIR / "models" / "staging" / contract.source
        assert (folder / f"{spec.staging_model}.sql").is_file()


def test_each_dbt_source_points_at_the_asset_that_publishes_it():
    by_raw_table = {spec.raw_table: spec for spec in EXTRACTION_SPECS}
    pointed = set()
    for source in SOURCES:
        (document,) = yaml.safe_load(sources_path(source).read_text())["sources"]
        for table in document["tables"]:
            read = (table.get("identifier") or table["name"]).removesuffix(HISTORY_SUFFIX)
            spec = by_raw_table[f"{document['schema']}.{read}"]
            assert table["config"]["meta"]["dagster"]["asset_key"] == [spec.name], table["name"]
            pointed.add(spec.name)
    assert pointed == {spec.name for spec in EXTRACTION_SPECS}
