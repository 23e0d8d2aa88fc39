"""The dbt models' asset and check specs, kept beside the manifest so loading needs no dbt.

dagster-dbt builds the specs from the manifest through the translator, and importing it loads
dbt-core: about 2 s, three times a bare `import dagster`, paid by every process that loads the
code location (each step process, the code server). So the specs are built once per manifest
by dagster-dbt itself, through `GovernanceTranslator`, and written to `dagster_specs.json`
next to the manifest. Later loads read that file. It is rebuilt whenever its fingerprint
changes: the manifest's bytes, the extraction tables the sources map to, the translator's
code and dagster-dbt's version. The file is a build artefact, like the manifest: it is never
edited or committed, and a missing or stale one only costs the next load dbt's import.

The freshness check's sources (the dbt sources with a threshold, by extraction asset) are kept
in the same file for the same reason: finding them takes the manifest and the translator.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_shared.serdes import deserialize_value, serialize_value

if TYPE_CHECKING:
    from assets.spec import ExtractionSpec

LOG = logging.getLogger("commerce_governance.transformer")
CACHE_NAME = "dagster_specs.json"
# What dagster-dbt puts in the specs' metadata as live objects, for its own `dbt.cli(context=)`:
# the file leaves them out, and the step hands dbt the manifest and translator itself
# (`assets.transformer.assets`).
LIVE_METADATA = ("dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator",
                 "dagster_dbt/project")
# The code whose output the file holds: a change to any of them makes it stale.
TRANSLATOR_CODE = ("translator.py", "descriptions.py", "freshness.py", "specs.py")


@dataclass(frozen=True)
class TransformerSpecs:
    """What loading the dbt side needs: the models' specs, their tests' and the freshness
    check's sources (source props by the extraction asset that publishes the table)."""

    assets: Sequence[dg.AssetSpec]
    checks: Sequence[dg.AssetCheckSpec]
    freshness_sources: Mapping[dg.AssetKey, Mapping[str, Any]]


def fingerprint(manifest_path: Path, extraction_specs: Sequence[ExtractionSpec]) -> str:
    """Changes whenever what the specs are built from changes."""
    digest = hashlib.sha256(manifest_path.read_bytes())
    tables = sorted(f"{s.name}={s.ref.schema}.{s.ref.table}" for s in extraction_specs)
    digest.update("\n".join(tables).encode())
    here = Path(__file__).parent
    for name in TRANSLATOR_CODE:
        digest.update((here / name).read_bytes())
    digest.update(version("dagster-dbt").encode())
    return digest.hexdigest()


def _unsupported(kind: str, key: str, field: str) -> ValueError:
    return ValueError(f"{kind} {key} has a {field}, which {CACHE_NAME} does not keep: "
                      "add it to assets/transformer/specs.py")


def _encode_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    return {name: serialize_value(value) for name, value in metadata.items()}


def _decode_metadata(found: Mapping[str, str]) -> dict[str, Any]:
    return {name: deserialize_value(value) for name, value in found.items()}


def _encode_asset(spec: dg.AssetSpec) -> dict[str, Any]:
    key = spec.key.to_user_string()
    for field in ("partitions_def", "freshness_policy", "legacy_freshness_policy"):
        if getattr(spec, field, None) is not None:
            raise _unsupported("dbt asset", key, field)
    if any(dep.partition_mapping is not None for dep in spec.deps):
        raise _unsupported("dbt asset", key, "dependency with a partition mapping")
    return {
        "key": list(spec.key.path),
        "deps": [{"key": list(dep.asset_key.path), "metadata": _encode_metadata(dep.metadata)}
                 for dep in spec.deps],
        "description": spec.description,
        "metadata": _encode_metadata({name: value for name, value in spec.metadata.items()
                                      if name not in LIVE_METADATA}),
        "skippable": spec.skippable,
        "group_name": spec.group_name,
        "code_version": spec.code_version,
        "automation_condition": (serialize_value(spec.automation_condition)
                                 if spec.automation_condition else None),
        "owners": list(spec.owners),
        "tags": dict(spec.tags),
    }


def _decode_asset(found: Mapping[str, Any]) -> dg.AssetSpec:
    condition = found["automation_condition"]
    return dg.AssetSpec(
        key=dg.AssetKey(found["key"]),
        deps=[dg.AssetDep(dg.AssetKey(dep["key"]), metadata=_decode_metadata(dep["metadata"]))
              for dep in found["deps"]],
        description=found["description"],
        metadata=_decode_metadata(found["metadata"]),
        skippable=found["skippable"],
        group_name=found["group_name"],
        code_version=found["code_version"],
        automation_condition=deserialize_value(condition) if condition else None,
        owners=found["owners"],
        tags=found["tags"],
    )


def _encode_check(spec: dg.AssetCheckSpec) -> dict[str, Any]:
    if spec.partitions_def is not None or spec.automation_condition is not None:
        raise _unsupported("dbt test", spec.key.to_user_string(),
                           "partitions definition or automation condition")
    return {
        "name": spec.name,
        "asset": list(spec.asset_key.path),
        "description": spec.description,
        "additional_deps": [list(dep.asset_key.path) for dep in spec.additional_deps],
        "blocking": spec.blocking,
        "metadata": _encode_metadata(spec.metadata),
    }


def _decode_check(found: Mapping[str, Any]) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        found["name"],
        asset=dg.AssetKey(found["asset"]),
        description=found["description"],
        additional_deps=[dg.AssetKey(path) for path in found["additional_deps"]],
        blocking=found["blocking"],
        metadata=_decode_metadata(found["metadata"]),
    )


def _build(manifest_path: Path, extraction_specs: Sequence[ExtractionSpec]) -> dict[str, Any]:
    """The specs as dagster-dbt builds them for `@dbt_assets`, in the file's form."""
    from dagster_dbt.asset_utils import build_dbt_specs

    from assets.transformer.freshness import freshness_sources
    from assets.transformer.translator import GovernanceTranslator
    from resources.transformer import transformer_project

    manifest = json.loads(manifest_path.read_text())
    translator = GovernanceTranslator(list(extraction_specs))
    assets, checks = build_dbt_specs(
        translator=translator, manifest=manifest, select="fqn:*", exclude="", selector="",
        io_manager_key=None, project=transformer_project(),
    )
    sources = freshness_sources(manifest, translator)
    return {
        "assets": [_encode_asset(spec) for spec in assets],
        "checks": [_encode_check(spec) for spec in checks],
        "freshness_sources": [[list(key.path), props] for key, props in sources.items()],
    }


def _decode(found: Mapping[str, Any]) -> TransformerSpecs:
    return TransformerSpecs(
        assets=[_decode_asset(spec) for spec in found["assets"]],
        checks=[_decode_check(spec) for spec in found["checks"]],
        freshness_sources={dg.AssetKey(path): props
                           for path, props in found["freshness_sources"]},
    )


def _read(cache: Path, expected: str) -> dict[str, Any] | None:
    try:
        found = json.loads(cache.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("fingerprint") == expected else None


def transformer_specs(manifest_path: Path,
                      extraction_specs: Sequence[ExtractionSpec]) -> TransformerSpecs:
    """The specs from the file beside the manifest, rebuilt first when it is stale."""
    cache = manifest_path.with_name(CACHE_NAME)
    expected = fingerprint(manifest_path, extraction_specs)
    found = _read(cache, expected)
    if found is None:
        found = {"fingerprint": expected, **_build(manifest_path, extraction_specs)}
        _write(cache, found)
    return _decode(found)


def _write(cache: Path, found: Mapping[str, Any]) -> None:
    """Written whole, then renamed: two processes loading at once never read half a file. A
    folder that cannot be written (a read-only image) only costs later loads the rebuild."""
    partial = cache.with_name(f"{CACHE_NAME}.{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps(found))
        partial.replace(cache)
    except OSError as error:
        LOG.warning("dbt asset specs not kept in %s (%s): each load builds them with dagster-dbt",
                    cache, error)
        partial.unlink(missing_ok=True)


def prepare_specs() -> Path:
    """Build the file for the project's manifest now (`python3 run.py prepare`), so that no
    later load pays for it."""
    from assets import EXTRACTION_SPECS
    from resources.transformer import manifest_path

    path = manifest_path()
    transformer_specs(path, EXTRACTION_SPECS)
    return path.with_name(CACHE_NAME)
