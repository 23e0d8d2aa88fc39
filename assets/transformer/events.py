"""What `@dbt_assets` does with the step's context, for the plain `multi_asset` of the models.

dagster-dbt reads the manifest and translator it needs from live objects in an `@dbt_assets`
definition's metadata, which the asset built from kept specs (`assets.transformer.specs`) does
not carry. So the step runs dbt without a context, and these two helpers put the context back
with dagster-dbt's own rules: which dbt nodes the selected assets and checks are, and which of
dbt's events become this step's outputs and check results. Imported by the step only: they load
dagster-dbt.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt.asset_utils import (
    get_checks_on_sources_upstream_of_selected_assets,
    get_subset_selection_for_context,
)

from assets.transformer.translator import GovernanceTranslator

INDIRECT_SELECTION = "DBT_INDIRECT_SELECTION"  # dbt reads it; dagster-dbt sets it per run
SELECT = "fqn:*"  # the selection the asset covers, as the op's `dagster_dbt/select` tag says


def dbt_selection(context: dg.AssetExecutionContext, manifest: Mapping[str, Any],
                  translator: GovernanceTranslator) -> tuple[list[str], str | None]:
    """dbt's `--select` arguments for what the step was asked to build, and the
    `DBT_INDIRECT_SELECTION` dagster-dbt would run it with (None: leave it as it is)."""
    return get_subset_selection_for_context(
        context=context, manifest=manifest, select=SELECT, exclude=None, selector=None,
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=os.getenv(INDIRECT_SELECTION),
    )


def _expected_checks(context: dg.AssetExecutionContext) -> set[dg.AssetCheckKey]:
    """The checks the step reports results for: the selected ones, and the source tests
    upstream of the selected models (dagster-dbt's `_get_result_check_keys`)."""
    upstream = get_checks_on_sources_upstream_of_selected_assets(
        assets_def=context.assets_def, selected_asset_keys=context.selected_asset_keys)
    return {*context.selected_asset_check_keys, *upstream}


def step_events(events: Iterable[Any], context: dg.AssetExecutionContext) -> Iterator[Any]:
    """dbt's events as the asset's: a model's materialization is its output; a test's verdict
    is a check result when the step was asked for that check, otherwise an observation (dbt's
    indirect selection ran a test nobody selected)."""
    expected = _expected_checks(context)
    for event in events:
        if isinstance(event, dg.AssetMaterialization):
            yield dg.Output(None, output_name=event.asset_key.to_python_identifier(),
                            metadata=event.metadata)
        elif isinstance(event, dg.AssetCheckEvaluation):
            key = dg.AssetCheckKey(event.asset_key, event.check_name)
            if key in expected:
                yield dg.AssetCheckResult(asset_key=event.asset_key, check_name=event.check_name,
                                          passed=event.passed, severity=event.severity,
                                          metadata=event.metadata)
            else:
                context.log.warning(f"dbt ran {key.to_user_string()}, which this step was not "
                                    "asked for (dbt's indirect selection): kept as an observation")
                yield dg.AssetObservation(asset_key=event.asset_key, metadata=event.metadata)
        else:
            yield event
