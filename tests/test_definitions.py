"""The code location loads, and every extraction asset carries what a steward needs to see."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assets import EXTRACTION_ASSETS
from assets.extraction import ExtractionConfig
from resources.environment import REPO_ROOT

EXPECTED = {
    "src_customer", "src_customer_metafields", "src_order", "src_order_product", "src_product",
    "bigcommerce_onsale_product_inventory", "src_point_transaction", "src_quotation",
}


@pytest.fixture(scope="module")
def defs():
    from definitions import defs as load

    return load()


def test_the_code_location_defines_every_extraction_asset_and_the_etl_job(defs):
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    downstream = {"dim_customer", "mart_customer_value", "op_product_notification_event"}
    assert EXPECTED | downstream <= keys
    job = defs.resolve_job_def("etl_pipeline")
    # One step per extraction asset, one `dbt build`, one notification step, and one
    # `dbt source freshness` for the extraction assets' freshness checks.
    assert {node.name for node in job.nodes} == EXPECTED | {
        "transformer", "op_product_notification_event", "source_freshness"}


@pytest.mark.parametrize("asset", EXTRACTION_ASSETS, ids=lambda a: a.key.to_user_string())
def test_each_extraction_asset_is_documented_owned_grouped_and_configurable(asset):
    spec = next(iter(asset.specs))
    assert spec.description and len(spec.description) > 20
    team, mailbox = spec.owners  # from the contract: a team and who to write to
    assert team.startswith("team:") and "@" in mailbox
    assert spec.group_name in {"customer", "order", "product", "loyalty", "sales"}
    assert {"python", "parquet"} <= set(spec.kinds)
    assert spec.metadata["raw_table"].startswith("raw_")
    config = asset.op.config_schema.config_type.fields
    assert config["hours_lookback"].default_value == 12
    assert config["full_refresh"].default_value is False


def test_config_rejects_a_negative_lookback():
    with pytest.raises(Exception, match="greater than or equal to 0"):
        ExtractionConfig(hours_lookback=-1)


def test_the_environment_is_validated_when_definitions_load(monkeypatch):
    """A typo in GOV_ENV stops loading with a message naming the accepted values."""
    monkeypatch.setenv("GOV_ENV", "staging")
    from definitions import defs as load

    with pytest.raises(ValueError, match="not one of local, prod"):
        load()


def test_dagster_validates_the_code_location_from_the_command_line(tmp_path):
    """`dagster definitions validate -m definitions`, as CI and deployments would run it."""
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "definitions"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
