"""dbt source freshness, rendered from the contracts and run for real: the dbt CLI on DuckDB,
through Dagster's own execution, over raw-zone batches published with an old `_extracted_at`.

A stale source turns its `source_freshness` check red (ERROR), a late one WARN, a fresh one
passes, a table never published is named as unmeasured; none of it fails the run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import yaml

from assets import EXTRACTION_ASSETS, EXTRACTION_SPECS
from assets.transformer.freshness import CHECK_NAME, build_source_freshness_check, freshness_sources
from assets.transformer.sources import rendered
from assets.transformer.translator import GovernanceTranslator
from automation.alerting import check_alerts
from resources.dbt_cli import transformer_cli
from resources.raw_zone import RawZone, RawZoneResource
from resources.transformer import manifest_path
from tests.assets.support import zone_ref

AGES = {  # asset -> how long ago its only batch was extracted
    "src_customer": timedelta(minutes=5),  # daily contract, 25 / 26 h: fresh
    "src_product": timedelta(hours=25, minutes=30),  # late
    "src_order": timedelta(hours=30),  # stale
    "bigcommerce_onsale_product_inventory": timedelta(minutes=105),  # hourly, 1.5 / 2 h: late
}
NEVER_PUBLISHED = "src_quotation"


def freshness_check() -> dg.AssetChecksDefinition:
    manifest = json.loads(manifest_path().read_text())
    return build_source_freshness_check(
        freshness_sources(manifest, GovernanceTranslator(EXTRACTION_SPECS)))


def publish(zone: RawZone, asset: str, age: timedelta) -> None:
    """One batch of two records, extracted `age` ago (the batch's own extraction time)."""
    batch = zone.stage(zone_ref(asset), run_id="freshness-test")
    batch.extracted_at = datetime.now(UTC) - age
    for pk in (1, 2):
        batch.add(pk, batch.extracted_at, json.dumps({"id": pk}))
    zone.publish(batch)


def test_every_source_table_has_its_contracts_freshness():
    for path, text in rendered(EXTRACTION_SPECS).items():
        tables = {t["name"]: t for t in yaml.safe_load(text)["sources"][0]["tables"]}
        for spec in EXTRACTION_SPECS:
            if spec.contract.source != path.parent.name:
                continue
            config = tables[spec.contract.table]["config"]
            assert config["loaded_at_field"] == "_extracted_at"
            assert config["freshness"]["error_after"]["period"] in {"hour", "minute"}
    inventory = next(s for s in EXTRACTION_SPECS if s.snapshot)
    from assets.transformer.sources import freshness_config

    assert freshness_config(inventory)["freshness"] == {
        "warn_after": {"count": 90, "period": "minute"},
        "error_after": {"count": 2, "period": "hour"}}


def test_one_non_blocking_check_per_extraction_asset():
    specs = list(freshness_check().check_specs)
    assert {spec.asset_key for spec in specs} == {a.key for a in EXTRACTION_ASSETS}
    assert all(spec.name == CHECK_NAME and not spec.blocking for spec in specs)


def checks_only(keys: list[dg.AssetKey], raw_zone: RawZoneResource,
                target: str = "local") -> dg.Definitions:
    """The freshness checks of `keys` as a job, beside the extraction assets as specs (owners
    included): only the checks run."""
    job = dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(
        *[dg.AssetCheckKey(key, CHECK_NAME) for key in keys]))
    specs = [asset.get_asset_spec(asset.key) for asset in EXTRACTION_ASSETS]
    return dg.Definitions(
        assets=specs, asset_checks=[freshness_check()], jobs=[job],
        resources={"raw_zone": raw_zone, "dbt": transformer_cli(target)})


def test_when_dbt_cannot_run_every_check_says_so_and_the_run_succeeds(tmp_path):
    raw_zone = RawZoneResource(root=str(tmp_path / "raw"),
                               warehouse=str(tmp_path / "warehouse.duckdb"))
    keys = [dg.AssetKey("src_order"), dg.AssetKey("src_customer")]
    defs = checks_only(keys, raw_zone, target="no_such_target")
    result = defs.resolve_job_def("freshness").execute_in_process()
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 2
    for evaluation in evaluations:
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert evaluation.metadata["outcome"].value == "unmeasured"
        assert "no target 'no_such_target'" in evaluation.metadata["reason"].value


@pytest.mark.slow
def test_stale_late_fresh_and_never_published_sources(tmp_path):
    raw_zone = RawZoneResource(root=str(tmp_path / "raw"),
                               warehouse=str(tmp_path / "warehouse.duckdb"))
    zone = raw_zone.zone()
    for asset, age in AGES.items():
        publish(zone, asset, age)
    keys = [dg.AssetKey(name) for name in [*AGES, NEVER_PUBLISHED]]
    defs = checks_only(keys, raw_zone)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
        assert result.success  # stale data is for a steward, it does not fail the run
        evaluations = {e.asset_key.to_user_string(): e
                       for e in result.get_asset_check_evaluations()}
        alerts = check_alerts(instance, instance.get_run_by_id(result.run_id),
                              webserver_url="http://dagster.test",
                              repository_def=defs.get_repository_def())

    assert set(evaluations) == {key.to_user_string() for key in keys}
    verdict = {name: (e.passed, e.severity, e.metadata["outcome"].value)
               for name, e in evaluations.items()}
    assert verdict == {
        "src_customer": (True, dg.AssetCheckSeverity.ERROR, "fresh"),
        "src_product": (False, dg.AssetCheckSeverity.WARN, "late"),
        "src_order": (False, dg.AssetCheckSeverity.ERROR, "stale"),
        "bigcommerce_onsale_product_inventory": (False, dg.AssetCheckSeverity.WARN, "late"),
        NEVER_PUBLISHED: (False, dg.AssetCheckSeverity.ERROR, "unmeasured"),
    }
    order = evaluations["src_order"]
    assert 29.9 < order.metadata["age_hours"].value < 30.1
    assert order.metadata["error_after_hours"].value == 26
    assert "error after 26.0 h" in order.description
    assert evaluations["bigcommerce_onsale_product_inventory"].metadata[
        "warn_after_hours"].value == 1.5
    assert "raw_wise.quotations" in evaluations[NEVER_PUBLISHED].metadata["reason"].value

    kinds = {alert.asset: alert.kind for alert in alerts}
    assert kinds == {"src_product": "source_late", "src_order": "source_stale",
                     "bigcommerce_onsale_product_inventory": "source_late",
                     NEVER_PUBLISHED: "source_stale"}
    stale = next(alert for alert in alerts if alert.asset == "src_order")
    assert stale.owner.startswith("team:") and "30." in stale.text
