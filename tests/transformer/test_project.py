"""The dbt project as Dagster sees it: sources wired to extraction assets, everything
documented, checks with the right blocking, and clear errors when the project is unusable."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import duckdb
import pytest
import yaml

from assets import EXTRACTION_ASSETS, EXTRACTION_SPECS
from assets.transformer.results import read_only
from assets.transformer.translator import GovernanceTranslator
from resources.transformer import (
    DUCKDB_MEMORY_LIMIT,
    TRANSFORMER_DIR,
    TransformerSetupError,
    check_profile,
    manifest_path,
    prepare_manifest,
    transformer_project,
)
from tests.transformer.test_pipeline import dbt_assets


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(manifest_path(transformer_project()).read_text())


def test_every_source_maps_to_an_extraction_asset(manifest):
    """No dangling keys: each dbt source is published by an extraction asset."""
    translator = GovernanceTranslator(EXTRACTION_SPECS)
    extraction = {a.key for a in EXTRACTION_ASSETS}
    mapped = {translator.get_asset_key(s) for s in manifest["sources"].values()}
    assert mapped and mapped <= extraction
    assert mapped == extraction  # and every extraction asset feeds dbt


def test_the_dbt_assets_depend_on_the_extraction_assets_and_nothing_else_outside():
    assets = dbt_assets()
    outside = {dep for deps in assets.asset_deps.values() for dep in deps} - set(assets.keys)
    assert outside == {a.key for a in EXTRACTION_ASSETS}


def test_every_model_and_column_is_described(manifest):
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) >= 20
    undocumented = [m["name"] for m in models if not m["description"].strip()]
    assert undocumented == []
    missing = [
        f"{m['name']}.{c}"
        for m in models
        for c, column in m["columns"].items()
        if not column["description"].strip()
    ]
    assert missing == []
    for model in models:  # and every column the SQL selects is in the yml
        assert model["columns"], f"{model['name']} documents no columns"


def test_models_are_grouped_by_folder_and_owned():
    specs = {spec.key.to_user_string(): spec for spec in dbt_assets().specs}
    assert specs["stg_bigcommerce__orders"].group_name == "staging"
    assert specs["dim_customer"].group_name == "dim"
    assert specs["fct_order"].group_name == "fct"
    assert specs["mart_customer_value"].group_name == "mart"
    assert all(spec.owners for spec in specs.values())


def test_error_tests_block_warn_tests_do_not_and_source_tests_never_split_the_step():
    checks = list(dbt_assets().check_specs)
    on_sources = [c for c in checks if c.asset_key in {a.key for a in EXTRACTION_ASSETS}]
    assert on_sources and not any(c.blocking for c in on_sources)
    on_models = [c for c in checks if c not in on_sources]
    assert any(c.blocking for c in on_models) and any(not c.blocking for c in on_models)
    not_negative = next(c for c in checks if c.name.endswith("order_total_not_negative"))
    assert not_negative.blocking


def test_a_missing_manifest_stops_loading_with_one_line_saying_how_to_fix_it(tmp_path):
    project_dir = tmp_path / "transformer"
    shutil.copytree(TRANSFORMER_DIR, project_dir, ignore=shutil.ignore_patterns("target"))
    from dagster_dbt import DbtProject

    with pytest.raises(
        TransformerSetupError,
        match=r"manifest.json is missing: build it with "
        r"`python3 run.py prepare`",
    ):
        manifest_path(DbtProject(project_dir=project_dir, profiles_dir=project_dir))
    assert prepare_manifest(project_dir).exists()  # and the fix works


def test_an_unreadable_profile_is_named_in_one_line(tmp_path):
    (tmp_path / "profiles.yml").write_text("commerce_governance: [unclosed\n")
    with pytest.raises(TransformerSetupError, match=r"profiles\.yml is unreadable") as error:
        check_profile(tmp_path, "local")
    assert "\n" not in str(error.value)
    (tmp_path / "profiles.yml").write_text(
        yaml.safe_dump({"commerce_governance": {"outputs": {"local": {"type": "duckdb"}}}})
    )
    with pytest.raises(TransformerSetupError, match="no target 'prod'"):
        check_profile(tmp_path, "prod")


def test_the_shipped_profile_has_both_targets_and_no_secret():
    text = (TRANSFORMER_DIR / "profiles.yml").read_text()
    check_profile(TRANSFORMER_DIR, "local")
    check_profile(TRANSFORMER_DIR, "prod")
    assert "env_var('GCP_SERVICE_ACCOUNT_KEY')" in text
    assert "private_key" not in text


def _limit(config: dict) -> str:
    with duckdb.connect(config=config) as connection:
        return connection.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_row_counts_after_a_build_read_under_dbts_memory_limit(tmp_path, monkeypatch):
    settings = yaml.safe_load((TRANSFORMER_DIR / "profiles.yml").read_text())[
        "commerce_governance"]["outputs"]["local"]["settings"]
    assert settings["memory_limit"] == (
        "{{ env_var('GOV_DBT_MEMORY_LIMIT', '" + DUCKDB_MEMORY_LIMIT + "') }}")
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    for value, expected in ((None, DUCKDB_MEMORY_LIMIT), ("1200MB", "1200MB")):
        if value:
            monkeypatch.setenv("GOV_DBT_MEMORY_LIMIT", value)
        with read_only(warehouse) as connection:
            found = connection.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert found == _limit({"memory_limit": expected}) != _limit({})


def test_jobs_select_what_their_targets_need():
    from definitions import defs

    loaded = defs()
    for job, must in {
        "sync_customer": {"src_customer", "stg_bigcommerce__customers", "dim_customer"},
        "sync_order": {
            "src_order",
            "src_order_product",
            "fct_order",
            "mart_complete_purchase_order",
        },
        "sync_product": {"src_product", "dim_product", "dim_sku"},
        "create_product_notification_event": {
            "src_product",
            "bigcommerce_onsale_product_inventory",
            "fct_onsale_product_inventory",
            "dim_customer",
            "op_product_notification_event",
        },
    }.items():
        keys = {
            k.to_user_string() for k in loaded.resolve_job_def(job).asset_layer.selected_asset_keys
        }
        assert must <= keys, (job, must - keys)
    assert {"src_quotation", "mart_customer_value"} <= {
        k.to_user_string()
        for k in loaded.resolve_job_def("etl_pipeline").asset_layer.selected_asset_keys
    }
    assert isinstance(loaded.resolve_job_def("import_quotation_file"), dg.JobDefinition)
