"""The dbt models as Dagster assets: `dbt build` under the warehouse lock, streamed.

dbt tests arrive as asset checks (error severity blocking, warn not), each with a description of
what it checks and, when it failed, a masked sample of its stored failing rows (`results`); a
failed build raises a
`Failure` that names each failing model or test, its message and its compiled SQL, rather
than a bare exit code. After the build, passed or failed, the run's artifacts become OpenLineage
events (`lineage.dbt`), so a failed model shows up as a FAIL run in Marquez.

The asset is a plain `multi_asset` over the specs dagster-dbt built (`assets.transformer.specs`),
so loading it imports neither dagster-dbt nor dbt-core. The step imports them: it selects the
dbt nodes with dagster-dbt's own subset rules and turns dbt's events into this asset's outputs
and check results (`step_events`), as `@dbt_assets` would.
"""

# No `from __future__ import annotations`: Dagster reads the asset function's annotations.
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

from assets.transformer.specs import TransformerSpecs
from resources.dbt_cli import DbtCli
from resources.lineage import LineageResource
from resources.raw_zone import RawZoneResource, warehouse_lock
from resources.transformer import (
    check_profile,
    dbt_target,
    manifest_path,
    target_type,
)

if TYPE_CHECKING:
    from assets.spec import ExtractionSpec
    from assets.transformer.translator import GovernanceTranslator

FAILED = {"error", "fail", "runtime error"}


class TransformConfig(dg.Config):
    full_refresh: bool = Field(
        default=False, description="Rebuild incremental models from scratch (dbt --full-refresh)."
    )


def _compiled_sql(target_path: Path, node: dict[str, Any]) -> Path | str:
    """Where dbt wrote the node's compiled SQL (a generic test's sits under its yml's path)."""
    name = Path(node.get("path", "")).name
    found = sorted((target_path / "compiled").rglob(name)) if name else []
    return found[0] if found else "not compiled"


def failures(run_results: dict[str, Any], manifest: dict[str, Any], target_path: Path) -> list[str]:
    """One line per failed node: what it is, why it failed, where its compiled SQL is."""
    lines = []
    for result in run_results.get("results", []):
        if result.get("status") not in FAILED:
            continue
        node = manifest.get("nodes", {}).get(result["unique_id"], {})
        compiled = _compiled_sql(target_path, node)
        message = " ".join(str(result.get("message") or "").split())[:300]
        status = f"{result['unique_id']} ({result['status']})"
        lines.append(f"{status}: {message} [compiled SQL: {compiled}]")
    return lines


def emit_transformer_lineage(
    context: dg.AssetExecutionContext,
    lineage: LineageResource,
    dbt: DbtCli,
    target: str,
    target_path: Path,
    column_types: dict[tuple[str, str], dict[str, str]],
) -> None:
    """The build's lineage, one event per model run and test; never fails the step."""
    from lineage.dbt import emit_dbt_run

    emitter = lineage.emitter()
    project_dir = Path(dbt.project_dir)
    emit_dbt_run(emitter, project_dir, Path(dbt.profiles_dir or project_dir), target,
                 parent_job=context.run.job_name, parent_run_id=context.run.run_id,
                 target_path=target_path, column_types=column_types)
    context.log.info(f"dbt {emitter.summary()}")


def _read_after_build(context: dg.AssetExecutionContext, raw_zone: RawZoneResource, adapter: str,
                      manifest: dict[str, Any], events: list[Any],
                      translator: "GovernanceTranslator") -> tuple[dict, dict]:
    """Row counts, failed tests' samples and column types, from the warehouse dbt built in."""
    from assets.transformer.results import column_types, read_after_build
    from resources.bigquery.raw_zone import BigQueryRawZone

    zone = raw_zone.zone()
    if adapter == "duckdb":
        warehouse = Path(raw_zone.warehouse)
        return (read_after_build(warehouse, manifest, events, zone.paths, translator,
                                 context.log, True), column_types(warehouse))
    if isinstance(zone, BigQueryRawZone):
        from assets.transformer import bigquery_results

        return bigquery_results.read_after_build(zone.bigquery.warehouse, manifest, events,
                                                 translator.get_raw_tables(manifest), context.log)
    context.log.warning(f"dbt built on {adapter} while the raw zone is not BigQuery: no row "
                        "counts, failing samples or column types are read")
    return {}, {}


def _build_args(config: TransformConfig, adapter: str, is_subset: bool) -> list[str]:
    # Unit tests check the models' logic on fixtures, not the data: they run on DuckDB
    # (every local build and CI), as dbt advises, and not again in production.
    args = ["build", *(["--full-refresh"] if config.full_refresh else []),
            *(["--exclude-resource-type", "unit_test"] if adapter != "duckdb" else [])]
    if is_subset:
        # A slice (sync_order) runs only the tests whose every model it builds: dbt's
        # eager default would also run relationship tests into models it does not build
        # (fct_point_transaction -> dim_customer), which fail on an empty warehouse. The
        # full build (etl_pipeline, daily) still runs every test.
        args += ["--indirect-selection", "cautious"]
    return args


@contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    """`name` set to `value` (when given) for what runs inside, as it was afterwards."""
    before = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if value is not None and before is None:
            os.environ.pop(name, None)
        elif value is not None:
            os.environ[name] = before


def build_transformer_assets(
    specs: TransformerSpecs, extraction_specs: Sequence["ExtractionSpec"]
) -> dg.AssetsDefinition:
    """The models as `@dbt_assets` would define them, from specs dagster-dbt built."""

    @dg.multi_asset(
        name="transformer",
        specs=specs.assets,
        check_specs=specs.checks,
        can_subset=True,
        # dagster-dbt's own tag: its subset rules read the selection the asset covers here.
        op_tags={"dagster_dbt/select": "fqn:*"},
        allow_arbitrary_check_specs=True,
    )
    def transformer(
        context: dg.AssetExecutionContext,
        config: TransformConfig,
        dbt: DbtCli,
        raw_zone: RawZoneResource,
        lineage: LineageResource,
    ) -> Iterator[Any]:
        from assets.transformer.events import INDIRECT_SELECTION, dbt_selection, step_events
        from assets.transformer.results import enriched
        from assets.transformer.translator import GovernanceTranslator

        check_profile(Path(dbt.project_dir), dbt.target)
        # profiles.yml reads the warehouse path from the environment (see its comment).
        os.environ["GOV_WAREHOUSE_PATH"] = raw_zone.warehouse
        manifest = json.loads(manifest_path().read_text())
        translator = GovernanceTranslator(list(extraction_specs))
        warehouse = Path(raw_zone.warehouse)
        target = dbt.target or dbt_target()
        adapter = target_type(Path(dbt.project_dir), target)
        selection, indirect = dbt_selection(context, manifest, translator)
        args = [*_build_args(config, adapter, context.is_subset), *selection]
        with warehouse_lock(warehouse), _environment(INDIRECT_SELECTION, indirect):
            invocation = dbt.cli(args, manifest=manifest, dagster_dbt_translator=translator,
                                 raise_on_error=False)
            # Held back until dbt exits: only then can the warehouse be read for row counts.
            events = list(step_events(invocation.stream(), context))
            extra, types = _read_after_build(context, raw_zone, adapter, manifest, events,
                                             translator)
        emit_transformer_lineage(context, lineage, dbt, target, invocation.target_path, types)
        for event in events:
            yield enriched(event, extra, manifest, translator)
        if not invocation.is_successful():
            run_results = invocation.get_artifact("run_results.json")
            lines = failures(run_results, manifest, invocation.target_path)
            raise dg.Failure(
                description="dbt build failed:\n" + "\n".join(lines or [invocation.get_error()]),
                metadata={"failed_nodes": len(lines), "target_path": str(invocation.target_path)},
            )

    return transformer
