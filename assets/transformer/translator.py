"""How dbt resources become Dagster assets: one translator, each rule a small helper.

Sources map to the extraction assets that publish them, found through the extraction specs
(a source's schema and table are the raw-zone table's), so no model or asset name is written
here. Models are grouped by their folder, and owned by the `owner` in their dbt meta.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from assets.spec import ExtractionSpec
from assets.transformer.descriptions import describe_test
from resources.raw_zone import TableRef

SNAPSHOT_HISTORY_SUFFIX = "__batches"  # the raw zone's every-batch view of a table
DEFAULT_OWNER = "team:data-platform"


def _raw_table(props: Mapping[str, Any]) -> tuple[str, str]:
    """(schema, table) of a dbt source, with a history view mapped to its table."""
    identifier = props.get("identifier") or props["name"]
    return props["schema"], identifier.removesuffix(SNAPSHOT_HISTORY_SUFFIX)


def _folder(props: Mapping[str, Any]) -> str:
    """The model's top folder under models/ (staging, dim, fct, mart)."""
    fqn = props.get("fqn", [])
    return fqn[1] if len(fqn) > 2 else "transformer"


def _meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return props.get("config", {}).get("meta", {}) or props.get("meta", {})


def _tests_a_source(manifest: Mapping[str, Any], test_id: str) -> bool:
    test = manifest.get("nodes", {}).get(test_id, {})
    return any(node.startswith("source.") for node in test.get("depends_on", {}).get("nodes", []))


class GovernanceTranslator(DagsterDbtTranslator):
    """Maps sources to extraction assets, groups models by folder, carries owners."""

    def __init__(self, extraction_specs: list[ExtractionSpec]) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                enable_source_tests_as_checks=True,
                # `inventory` and its snapshot history are both published by one asset.
                enable_duplicate_source_asset_keys=True,
            )
        )
        self._sources = {(s.ref.schema, s.ref.table): dg.AssetKey(s.name) for s in extraction_specs}
        self._refs = {(s.ref.schema, s.ref.table): s.ref for s in extraction_specs}

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            raw_table = _raw_table(dbt_resource_props)
            if raw_table not in self._sources:
                raise KeyError(
                    f"dbt source {dbt_resource_props['unique_id']} reads {'.'.join(raw_table)}, "
                    "which no extraction asset publishes"
                )
            return self._sources[raw_table]
        return super().get_asset_key(dbt_resource_props)

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        spec = spec._replace(description=self.get_check_description(manifest, unique_id))
        if _tests_a_source(manifest, unique_id):
            # A blocking check on an extraction asset would make every asset downstream of it
            # (say, order products after orders) wait for the dbt step that runs the test,
            # splitting `dbt build` in two. dbt still skips the models behind a failing
            # error-severity source test, so the data stays protected.
            return spec._replace(blocking=False)
        return spec

    def get_check_description(self, manifest: Mapping[str, Any], unique_id: str) -> str:
        """What the dbt test checks: the same sentence on the check's spec and its result."""
        return describe_test(manifest, manifest["nodes"][unique_id])

    def get_raw_tables(self, manifest: Mapping[str, Any]) -> dict[str, TableRef]:
        """The raw-zone table each dbt source reads, by the source's unique id."""
        return {unique_id: self._refs[_raw_table(props)]
                for unique_id, props in manifest.get("sources", {}).items()
                if _raw_table(props) in self._refs}

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return _folder(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        owner = _meta(dbt_resource_props).get("owner")
        return [owner] if owner else [DEFAULT_OWNER]
