"""dbt source freshness as one non-blocking `source_freshness` check per extraction asset.

One `@multi_asset_check` runs `dbt source freshness` once for every selected source (a dbt
start-up costs ~5 s; one per asset would cost eight), under the warehouse lock as `dbt build`
does, and turns each source's verdict into a check result on the asset its
`meta.dagster.asset_key` names: pass passes, warn is a WARN, error is an ERROR. The thresholds
are rendered into the sources files from each contract's `Freshness`
(`assets/transformer/sources.py`), the same numbers as the asset's Dagster freshness policy.

The check never blocks and never fails its step on stale data: freshness says that a source
is late, which is for a steward to chase, not a reason to stop the models built from what did
arrive. A freshness run that produced no verdict (dbt could not start, a table never
published) is an ERROR result that says so, never a silent pass.
"""

# No `from __future__ import annotations`: Dagster reads the check function's annotations.
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from resources.dbt_cli import DbtCli
from resources.raw_zone import RawZoneResource, warehouse_lock
from resources.transformer import TransformerSetupError, check_profile

if TYPE_CHECKING:
    from assets.transformer.translator import GovernanceTranslator

CHECK_NAME = "source_freshness"
# dbt's verdicts -> what the steward reads, and how loud the check is.
OUTCOMES = {"pass": "fresh", "warn": "late", "error": "stale"}
SEVERITIES = {"warn": dg.AssetCheckSeverity.WARN}
_PERIOD_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}


def freshness_sources(
    manifest: Mapping[str, Any], translator: "GovernanceTranslator"
) -> dict[dg.AssetKey, Mapping[str, Any]]:
    """The dbt source with a freshness threshold behind each extraction asset."""
    found: dict[dg.AssetKey, Mapping[str, Any]] = {}
    for props in manifest.get("sources", {}).values():
        criteria = props.get("freshness") or {}
        if not any((criteria.get(level) or {}).get("count") for level in ("warn_after",
                                                                           "error_after")):
            continue  # the snapshot history view: the table's own source carries it
        key = translator.get_asset_key(props)
        if key in found:
            raise ValueError(f"{key.to_user_string()} has two dbt sources with a freshness "
                             f"threshold ({found[key]['unique_id']}, {props['unique_id']})")
        found[key] = props
    return found


def _hours(threshold: Mapping[str, Any] | None) -> float | None:
    if not threshold or not threshold.get("count"):
        return None
    return round(threshold["count"] * _PERIOD_HOURS[threshold["period"]], 2)


def check_result(key: dg.AssetKey, source: Mapping[str, Any],
                 result: Mapping[str, Any] | None, why_missing: str) -> dg.AssetCheckResult:
    """One source's verdict as the asset's `source_freshness` result."""
    criteria = source.get("freshness") or {}
    metadata: dict[str, Any] = {
        "dbt_source": source["unique_id"],
        "warn_after_hours": _hours(criteria.get("warn_after")),
        "error_after_hours": _hours(criteria.get("error_after")),
    }
    name = key.to_user_string()
    status = (result or {}).get("status")
    if status not in OUTCOMES:
        reason = " ".join(str((result or {}).get("error") or why_missing).split())[:500]
        return dg.AssetCheckResult(
            asset_key=key, check_name=CHECK_NAME, passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{name}: freshness not measured: {reason}",
            metadata={**metadata, "outcome": "unmeasured", "status": status or "no result",
                      "reason": reason})
    age_hours = round(float(result["max_loaded_at_time_ago_in_s"]) / 3600, 2)
    limit = metadata["error_after_hours"] if status == "error" else metadata["warn_after_hours"]
    against = f" ({status} after {limit} h)" if status != "pass" else ""
    return dg.AssetCheckResult(
        asset_key=key, check_name=CHECK_NAME, passed=status == "pass",
        severity=SEVERITIES.get(status, dg.AssetCheckSeverity.ERROR),
        description=f"{name}: newest published batch extracted {age_hours} h ago{against}",
        metadata={**metadata, "outcome": OUTCOMES[status], "status": status,
                  "max_loaded_at": str(result.get("max_loaded_at")),
                  "snapshotted_at": str(result.get("snapshotted_at")),
                  "age_hours": age_hours})


def _sources_json(target_path: Path) -> tuple[dict[str, Mapping[str, Any]], str]:
    """Each source's result by unique id, and why there is none when dbt wrote nothing."""
    path = target_path / "sources.json"
    try:
        results = json.loads(path.read_text())["results"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return {}, f"dbt source freshness wrote no results ({type(error).__name__}: {error})"
    return {r["unique_id"]: r for r in results}, "dbt returned no result for this source"


def _runtime_errors(events: Iterable[Any]) -> dict[str, str]:
    """dbt leaves a source whose query failed out of sources.json; its log names the error."""
    errors = {}
    for event in events:
        info, data = event.raw_event.get("info", {}), event.raw_event.get("data", {})
        unique_id = (data.get("node_info") or {}).get("unique_id")
        if info.get("name") == "RunResultError" and unique_id:
            errors[unique_id] = str(data.get("msg") or "runtime error")
    return errors


def _measure(dbt: DbtCli, raw_zone: RawZoneResource,
             selectors: list[str]) -> tuple[dict[str, Mapping[str, Any]], str]:
    """Run `dbt source freshness` on the selected sources: results by unique id, and why a
    source has none."""
    check_profile(Path(dbt.project_dir), dbt.target)
    # profiles.yml reads the warehouse path from the environment (see its comment).
    os.environ["GOV_WAREHOUSE_PATH"] = raw_zone.warehouse
    # dbt-duckdb opens the warehouse file as a writer, so it waits for a publish or a
    # `dbt build` to finish instead of failing on DuckDB's file lock.
    with warehouse_lock(Path(raw_zone.warehouse)):
        # One space-separated value: dagster-dbt re-reads `--select` and keeps one value.
        invocation = dbt.cli(["source", "freshness", "--select", " ".join(selectors)],
                             raise_on_error=False)
        errors = _runtime_errors(invocation.stream_raw_events())
    results, why = _sources_json(invocation.target_path)
    if not results and not invocation.is_successful():
        why = f"{why}; {invocation.get_error()}"
    return {**{uid: {"status": "runtime error", "error": msg} for uid, msg in errors.items()},
            **results}, why


def build_source_freshness_check(
    sources: Mapping[dg.AssetKey, Mapping[str, Any]],
) -> dg.AssetChecksDefinition:
    """The check over `freshness_sources()` (kept with the specs, `assets.transformer.specs`)."""

    @dg.multi_asset_check(
        name=CHECK_NAME,
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME, asset=key, blocking=False,
                description=f"dbt source freshness of `{props['source_name']}.{props['name']}` "
                "against its contract's freshness (newest `_extracted_at`).")
            for key, props in sources.items()
        ],
        can_subset=True,  # a job over some sources measures only those
        compute_kind="dbt",
    )
    def source_freshness(
        context: dg.AssetCheckExecutionContext, dbt: DbtCli, raw_zone: RawZoneResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = [check.asset_key for check in context.selected_asset_check_keys]
        selectors = [f"source:{sources[k]['source_name']}.{sources[k]['name']}" for k in selected]
        try:
            results, why = _measure(dbt, raw_zone, selectors)
        except (TransformerSetupError, TimeoutError) as error:  # a profile or lock problem
            results, why = {}, f"{type(error).__name__}: {error}"
        for key in selected:
            found = check_result(key, sources[key], results.get(sources[key]["unique_id"]), why)
            log = context.log.info if found.passed else context.log.warning
            log(found.description)
            yield found

    return source_freshness
