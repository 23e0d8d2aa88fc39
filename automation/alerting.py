"""What a finished run needs to tell people: its failed asset checks and, when no check explains
it, its failure. Built from the instance's event log, so it works for any run the sensors see.

Delivery (outbox, log line, Slack) is `resources.alerts.AlertsResource`; this module only decides
what to say and to whom.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from checks.report import FAILURE_TITLES, failure_kind, headline
from checks.tables import MAX_CELL_CHARS
from resources.alerts import Alert, AlertKind

UNKNOWN_OWNER = "unknown owner"
MAX_EXAMPLES = 3
_TITLES = {
    **FAILURE_TITLES,
    "run_failed": "Run failed",
    "source_late": "Source late",
    "source_stale": "Source stale",
    "field_unclassified": "New field to classify",
}
# The `source_freshness` check's outcomes (assets/transformer/freshness.py): a source that is
# late or stale was not blocked by anything, so it must not read as a blocked batch.
_FRESHNESS_KINDS: dict[str, AlertKind] = {"late": "source_late", "stale": "source_stale",
                                          "unmeasured": "source_stale"}


def root_error(error: SerializableErrorInfo | None) -> SerializableErrorInfo | None:
    """The user's own error: Dagster wraps it in its step-execution errors."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error


def _step_errors(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The first line of each failed step's error, so an alert says what broke."""
    errors = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        error = root_error(entry.dagster_event.step_failure_data.error)
        first_line = (error.message.strip().splitlines() or [""])[0] if error else ""
        errors.append(f"{entry.dagster_event.step_key}: {first_line}")
    return errors


def describe_run_failure(
    run: dg.DagsterRun, event: dg.DagsterEvent | None, instance: dg.DagsterInstance
) -> str:
    reason = event.message if event is not None and event.message else "no reason recorded"
    steps = "; ".join(_step_errors(instance, run.run_id))
    return f"run {run.run_id} of job {run.job_name} failed: {reason}" + (
        f" Failed steps: {steps}" if steps else ""
    )


def run_url(webserver_url: str, run_id: str) -> str:
    return f"{webserver_url.rstrip('/')}/runs/{run_id}"


def owner_of(asset_keys: list[dg.AssetKey], repository_def: dg.RepositoryDefinition | None) -> str:
    """The `owners=` of the assets in the code location (dbt tests carry no owner of their own)."""
    defs_by_key = repository_def.assets_defs_by_key if repository_def is not None else {}
    owners: list[str] = []
    for key in asset_keys:
        if key in defs_by_key:
            owners += [o for o in defs_by_key[key].get_asset_spec(key).owners if o not in owners]
    return ", ".join(owners) or UNKNOWN_OWNER


def _plain(metadata: Mapping[str, dg.MetadataValue]) -> dict[str, Any]:
    return {name: value.value for name, value in metadata.items()}


def _examples(rules: Any) -> list[dict[str, Any]]:
    """The first few rules broken, with their masked examples, from the check's `rules` table
    (`checks.tables`): its `examples` cell is already masked and joined."""
    if not isinstance(rules, dg.TableMetadataValue):
        return []
    return [{"rule": row.data.get("rule"), "column": row.data.get("column") or None,
             "count": row.data.get("rows"),
             "examples": [str(row.data["examples"])] if row.data.get("examples") else []}
            for row in rules.records[:MAX_EXAMPLES]]


def _counts(values: Mapping[str, Any]) -> dict[str, int | float]:
    counts = {name: values[name] for name in ("rows_audited", "rows_failing", "failure_fraction")
              if isinstance(values.get(name), int | float)}
    if "rows_failing" not in counts and isinstance(values.get("dagster_dbt/failed_row_count"), int):
        counts["rows_failing"] = values["dagster_dbt/failed_row_count"]
    return counts


def _counts_line(counts: Mapping[str, int | float]) -> str | None:
    parts = []
    if "rows_audited" in counts:
        parts.append(f"{counts['rows_audited']:,} audited")
    if "rows_failing" in counts:
        parts.append(f"{counts['rows_failing']:,} failing")
    if "failure_fraction" in counts:
        parts.append(f"failure fraction {counts['failure_fraction']:.2%}")
    return f"Rows: {', '.join(parts)}" if parts else None


def _example_lines(examples: list[dict[str, Any]]) -> list[str]:
    lines = []
    for entry in examples:
        where = f"{entry.get('rule')}" + (f" on {entry['column']}" if entry.get("column") else "")
        count = f": {entry['count']:,} rows" if isinstance(entry.get("count"), int) else ""
        shown = ", ".join(str(value)[:MAX_CELL_CHARS] for value in entry["examples"])
        lines.append(f"  - {where}{count}" + (f", e.g. {shown}" if shown else ""))
    return (["Examples (masked):", *lines]) if lines else []


def _kind(evaluation: dg.AssetCheckEvaluation, outcome: Any) -> AlertKind:
    if outcome in _FRESHNESS_KINDS:
        return _FRESHNESS_KINDS[outcome]
    return failure_kind(evaluation.severity, outcome)


def _headline(evaluation: dg.AssetCheckEvaluation, values: dict[str, Any], owner: str) -> str:
    """The line the check's step logged (`checks.report.headline`), for this evaluation."""
    failing = _counts(values).get("rows_failing")
    return headline(_TITLES[_kind(evaluation, values.get("outcome"))],
                    evaluation.asset_key.to_user_string(), evaluation.check_name,
                    failing if isinstance(failing, int) else None, owner)


def _check_alert(evaluations: list[dg.AssetCheckEvaluation], run: dg.DagsterRun, url: str,
                 repository_def: dg.RepositoryDefinition | None) -> Alert:
    """One alert for every failed check of one asset in one run: a batch blocked by both of
    its audits is one failure, so it is one message (its checks are listed together)."""
    first = max(evaluations, key=lambda e: e.severity == dg.AssetCheckSeverity.ERROR)
    values = [_plain(evaluation.metadata) for evaluation in evaluations]
    asset = first.asset_key.to_user_string()
    check = ", ".join(evaluation.check_name for evaluation in evaluations)
    outcome = values[evaluations.index(first)].get("outcome") or "failed"
    kind = _kind(first, outcome)
    owner = str(next((v["owner"] for v in values if v.get("owner")), None)
                or owner_of([first.asset_key], repository_def))
    counts = max((_counts(v) for v in values), key=lambda c: c.get("rows_failing", 0))
    examples = [entry for v in values for entry in _examples(v.get("rules"))][:MAX_EXAMPLES]
    quarantine = next((str(v["quarantine_query"]) for v in values if v.get("quarantine_query")),
                      None)
    path = next((str(v["quarantine_path"]) for v in values if v.get("quarantine_path")), None)
    batch = next((v["batch_id"] for v in values if v.get("batch_id")), None)
    title = f"{_TITLES[kind]}: {asset} · {check}"
    ordered = sorted(zip(evaluations, values, strict=True),
                     key=lambda pair: pair[0].severity != dg.AssetCheckSeverity.ERROR)
    lines = [
        *(_headline(evaluation, value, owner) for evaluation, value in ordered),
        f"Outcome: {outcome}, severity {first.severity.value}",
        f"Owner: {owner}",
        # A freshness result's description is the whole story (age against the threshold);
        # other checks' descriptions are not promised to be masked, so they stay out.
        first.description if kind in ("source_late", "source_stale") else None,
        _counts_line(counts),
        *_example_lines(examples),
        f"Quarantined rows: {quarantine}" if quarantine else None,
        f"Quarantine file: {path}" if path else None,
        f"Batch: {batch}" if batch else None,
        f"Job: {run.job_name}, run {run.run_id}",
        f"Run: {url}",
    ]
    return Alert(
        key=f"{run.run_id}:{asset}", kind=kind, title=title, run_id=run.run_id,
        job=run.job_name, owner=owner, run_url=url,
        text="\n".join(line for line in lines if line), asset=asset, check=check,
        outcome=str(outcome), counts=counts, examples=examples, quarantine=quarantine,
    )


def _failed_evaluations(
    instance: dg.DagsterInstance, run_id: str
) -> list[tuple[str | None, dg.AssetCheckEvaluation]]:
    """(step key, evaluation) of every failed check the run recorded."""
    found = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if isinstance(evaluation, dg.AssetCheckEvaluation) and not evaluation.passed:
            found.append((entry.step_key, evaluation))
    return found


def check_alerts(instance: dg.DagsterInstance, run: dg.DagsterRun, *, webserver_url: str,
                 repository_def: dg.RepositoryDefinition | None = None) -> list[Alert]:
    """One alert per asset with failed checks in the run."""
    url = run_url(webserver_url, run.run_id)
    by_asset: dict[dg.AssetKey, list[dg.AssetCheckEvaluation]] = {}
    for _, evaluation in _failed_evaluations(instance, run.run_id):
        by_asset.setdefault(evaluation.asset_key, []).append(evaluation)
    alerts = [_check_alert(evaluations, run, url, repository_def)
              for evaluations in by_asset.values()]
    return alerts + [alert for evaluations in by_asset.values()
                     for evaluation in evaluations
                     for alert in _unclassified_alerts(evaluation, run, url)]


def _unclassified_alerts(evaluation: dg.AssetCheckEvaluation, run: dg.DagsterRun,
                         url: str) -> list[Alert]:
    """One alert per field a table held back as unclassified, asking its owner to classify it.
    Keyed by table and field, not run, so the outbox sends it once, however many runs hold it."""
    values = _plain(evaluation.metadata)
    try:
        fields = json.loads(values.get("unclassified_fields") or "[]")
    except ValueError:
        return []
    asset = evaluation.asset_key.to_user_string()
    owner = str(values.get("owner") or UNKNOWN_OWNER)
    table = str(values.get("table") or asset)
    alerts = []
    for held in fields:
        name = str(held.get("field"))
        title = f"{_TITLES['field_unclassified']}: {asset}.{name}"
        text = "\n".join([
            f"{title} ({held.get('json_type')}, in {held.get('records')} records of run "
            f"{run.run_id})",
            f"Owner: {owner}",
            "Held back from the published table until the contract names it. Classify it "
            "(type, description, PII class) in the table's contract, then run "
            f"`python3 run.py publish-classified {table}` to publish the "
            "values held so far.",
            f"Examples (masked): {', '.join(map(str, held.get('examples') or [])) or 'none'}",
            f"Held values: {values.get('unclassified_values', '')}",
            f"Run: {url}",
        ])
        alerts.append(Alert(
            key=f"unclassified:{asset}:{name}", kind="field_unclassified", title=title,
            run_id=run.run_id, job=run.job_name, owner=owner, run_url=url, text=text,
            asset=asset, check=evaluation.check_name, outcome="unclassified",
            counts={"records": int(held.get("records") or 0)},
            examples=[{"field": name, "examples": held.get("examples") or []}]))
    return alerts


def failure_explained_by_checks(instance: dg.DagsterInstance, run_id: str) -> bool:
    """True when every failed step emitted a failed ERROR check: those alerts say it all."""
    failed_steps = {entry.step_key for entry in
                    instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)}
    blocked_steps = {step for step, evaluation in _failed_evaluations(instance, run_id)
                     if evaluation.severity == dg.AssetCheckSeverity.ERROR}
    return bool(failed_steps) and failed_steps <= blocked_steps


def _run_owner(instance: dg.DagsterInstance, run: dg.DagsterRun, failed_steps: set[str | None],
               repository_def: dg.RepositoryDefinition | None) -> str:
    """The owners of the assets the failed steps were to materialize."""
    planned = instance.all_logs(run.run_id,
                                of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    keys = [entry.dagster_event.asset_key for entry in planned if entry.step_key in failed_steps]
    return owner_of([key for key in keys if key is not None], repository_def)


def run_failure_alert(instance: dg.DagsterInstance, run: dg.DagsterRun,
                      event: dg.DagsterEvent | None, *, webserver_url: str,
                      repository_def: dg.RepositoryDefinition | None = None) -> Alert | None:
    """The run_failed alert, or None when the run's blocked checks already explain the failure."""
    if failure_explained_by_checks(instance, run.run_id):
        return None
    failures = list(instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE))
    errors = [root_error(entry.dagster_event.step_failure_data.error) for entry in failures]
    error = next((e for e in errors if e is not None), None)
    owner = _run_owner(instance, run, {entry.step_key for entry in failures}, repository_def)
    url = run_url(webserver_url, run.run_id)
    # SerializableErrorInfo.message already starts with the exception's class name.
    error_line = (error.message.strip().splitlines() or [""])[0] if error else None
    lines = [f"{_TITLES['run_failed']}: job {run.job_name}", f"Owner: {owner}",
             describe_run_failure(run, event, instance),
             f"Root error: {error_line}" if error else None, f"Run: {url}"]
    return Alert(
        key=f"{run.run_id}:run", kind="run_failed", title=f"Run failed: {run.job_name}",
        run_id=run.run_id, job=run.job_name, owner=owner, run_url=url,
        text="\n".join(line for line in lines if line),
        error=error_line,
    )


def run_alerts(instance: dg.DagsterInstance, run: dg.DagsterRun,
               event: dg.DagsterEvent | None = None, *, webserver_url: str,
               repository_def: dg.RepositoryDefinition | None = None) -> list[Alert]:
    """Everything a finished run has to say: its check alerts, then its failure if unexplained."""
    alerts = check_alerts(instance, run, webserver_url=webserver_url,
                          repository_def=repository_def)
    if run.status == dg.DagsterRunStatus.FAILURE:
        failure = run_failure_alert(instance, run, event, webserver_url=webserver_url,
                                    repository_def=repository_def)
        alerts += [failure] if failure is not None else []
    return alerts
