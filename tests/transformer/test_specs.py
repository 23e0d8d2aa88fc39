"""The models' specs kept beside the manifest (`assets.transformer.specs`) are dagster-dbt's own,
and a stale or damaged file is rebuilt, never trusted.

The reference is `@dbt_assets` itself, built here from the same manifest and translator: every
asset spec (key, deps, description, metadata, group, owners, tags, code version) and every check
spec (name, description, blocking, metadata) must come back from the file as it built them, the
live objects dagster-dbt keeps for its own use aside.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from dagster_dbt import dbt_assets

from assets import EXTRACTION_SPECS
from assets.transformer.specs import CACHE_NAME, LIVE_METADATA, transformer_specs
from assets.transformer.translator import GovernanceTranslator
from resources.transformer import manifest_path, transformer_project


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """A copy of the project's manifest, with no kept specs beside it yet."""
    copy = tmp_path / "target" / "manifest.json"
    copy.parent.mkdir()
    shutil.copy(manifest_path(), copy)
    return copy


def _reference():
    @dbt_assets(manifest=manifest_path(), project=transformer_project(),
                dagster_dbt_translator=GovernanceTranslator(EXTRACTION_SPECS), name="transformer")
    def reference(): ...

    return reference


def _without_live(spec):
    return spec.replace_attributes(metadata={name: value for name, value in spec.metadata.items()
                                             if name not in LIVE_METADATA})


def test_the_kept_specs_are_the_ones_dbt_assets_builds(manifest):
    reference = _reference()
    transformer_specs(manifest, EXTRACTION_SPECS)  # builds and writes the file
    kept = transformer_specs(manifest, EXTRACTION_SPECS)  # reads it back
    assert (manifest.parent / CACHE_NAME).exists()
    expected = {spec.key: _without_live(spec) for spec in reference.specs}
    assert {spec.key: spec for spec in kept.assets} == expected
    assert {spec.key: spec for spec in kept.checks} == {s.key: s for s in reference.check_specs}
    assert any(spec.metadata.get("dagster/column_schema") for spec in kept.assets)
    assert any(check.blocking for check in kept.checks)
    assert any(not check.blocking for check in kept.checks)  # the source tests


def test_a_changed_manifest_rebuilds_the_kept_specs(manifest):
    transformer_specs(manifest, EXTRACTION_SPECS)
    found = json.loads(manifest.read_text())
    model = next(node for node in found["nodes"].values() if node["resource_type"] == "model")
    model["description"] = "A description written after the specs were kept."
    manifest.write_text(json.dumps(found))
    kept = transformer_specs(manifest, EXTRACTION_SPECS)
    descriptions = [spec.description or "" for spec in kept.assets]
    assert any(d.startswith("A description written after") for d in descriptions)


def test_a_damaged_file_is_rebuilt_not_trusted(manifest):
    first = transformer_specs(manifest, EXTRACTION_SPECS)
    cache = manifest.parent / CACHE_NAME
    cache.write_text(cache.read_text()[:1000])  # cut short, as by a full disk
    again = transformer_specs(manifest, EXTRACTION_SPECS)
    assert [spec.key for spec in again.assets] == [spec.key for spec in first.assets]
    assert json.loads(cache.read_text())["fingerprint"]


def test_another_extraction_table_rebuilds_the_kept_specs(manifest):
    """The sources map to extraction assets by table: a renamed asset must not keep its old
    key in the dbt graph."""
    from dataclasses import replace

    transformer_specs(manifest, EXTRACTION_SPECS)
    renamed = [replace(spec, name=f"{spec.name}_v2") if spec.name == "src_order" else spec
               for spec in EXTRACTION_SPECS]
    kept = transformer_specs(manifest, renamed)
    deps = {dep.asset_key.to_user_string() for spec in kept.assets for dep in spec.deps}
    assert "src_order_v2" in deps and "src_order" not in deps


def test_a_file_that_cannot_be_written_still_loads(manifest, caplog):
    """As in a read-only image (root writes through permissions, so the file's place is
    taken by a folder instead)."""
    (manifest.parent / CACHE_NAME).mkdir()
    kept = transformer_specs(manifest, EXTRACTION_SPECS)
    assert len(kept.assets) == len(_reference().specs)
    assert "not kept" in caplog.text
    assert {p.name for p in manifest.parent.iterdir()} == {"manifest.json", CACHE_NAME}
