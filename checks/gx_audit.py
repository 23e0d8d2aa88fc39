"""The `quality_expectations` audit: the contract's Great Expectations suite over the batch.

GX is imported here, inside the audit, and never when the code location loads (it takes about
3 s). The suite runs in an ephemeral context on the batch typed by the schema audit, with the
contract's derived columns added. Row-level expectations report the staged rows that fail them
(GX's `unexpected_index_list` is the frame's index, which is the staged row number).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from checks.findings import MAX_EXAMPLES, AuditResult, Finding
from contracts.base import Contract, Expectation, Recent

CHECK_NAME = "quality_expectations"
LEVEL_BY_POLICY = {"quarantine": "row", "block": "batch", "warn": "warn"}


def _class_name(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _resolved(kwargs: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        key: now - timedelta(hours=value.hours) if isinstance(value, Recent) else value
        for key, value in kwargs.items()
    }


def build_expectation(gx: Any, expectation: Expectation, position: int, now: datetime) -> Any:
    """The GX expectation object; a wrong name or argument raises ValueError naming it.

    `meta.position` ties each result back to its expectation: GX reorders results."""
    cls = getattr(gx.expectations, _class_name(expectation.type), None)
    if cls is None:
        raise ValueError(f"GX has no expectation {expectation.type!r}")
    try:
        return cls(**_resolved(dict(expectation.kwargs), now), meta={"position": position})
    except Exception as error:
        raise ValueError(f"{expectation.type}{dict(expectation.kwargs)}: {error}") from error


def _with_derived(contract: Contract, typed: pd.DataFrame) -> pd.DataFrame:
    if not contract.derived:
        return typed
    frame = typed.copy()
    for name, expression in contract.derived.items():
        frame[name] = frame.eval(expression) if len(frame) else pd.Series(dtype="float64")
    return frame


def _row_of(entry: Any) -> int:
    """GX names each unexpected row by the frame's index; ours is `_row`."""
    return int(entry["_row"] if isinstance(entry, dict) else entry)


def _finding(expectation: Expectation, outcome: Any) -> Finding:
    result = outcome.result or {}
    rows = [_row_of(entry) for entry in result.get("unexpected_index_list") or []]
    level = LEVEL_BY_POLICY[expectation.on_failure]
    if level == "row" and not rows:
        level = "batch"  # a batch-level failure cannot be quarantined row by row
    count = result.get("unexpected_count")
    if count is None:
        count = len(rows) or 1
    observed = result.get("observed_value")
    examples = list(result.get("partial_unexpected_list") or [])[:MAX_EXAMPLES]
    if not examples and observed is not None:
        examples = [observed]
    detail = f"observed {observed!r}" if observed is not None else f"{count} unexpected"
    why = f" ({expectation.why})" if expectation.why else ""
    reason = f"{expectation.type} failed: {detail}{why}"
    return Finding(expectation.type, expectation.column, level, int(count), reason,
                   rows=sorted(set(rows)), examples=examples)


def raised_message(info: Any) -> str | None:
    """What went wrong if GX could not evaluate an expectation. GX reports an exception either
    on the result itself or per metric it failed to compute ({metric id: {...}}); the second
    kind has no `raised_exception` at the top and was read as a plain failure, blocking a clean
    batch for "1 unexpected"."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for metric, detail in info.items():
        if isinstance(detail, dict) and detail.get("raised_exception"):
            return f"{metric}: {detail.get('exception_message')}"
    return None


def gx_audit(contract: Contract, typed: pd.DataFrame, now: datetime | None = None) -> AuditResult:
    result = AuditResult(CHECK_NAME, len(typed))
    try:
        result.findings = _run_suite(contract, typed, now or datetime.now(UTC))
    except Exception as error:  # a suite that cannot run is a failed check, never a pass
        result.error = f"the GX suite could not run: {type(error).__name__}: {error}"
    return result


def _applicable(contract: Contract, typed: pd.DataFrame) -> tuple[Expectation, ...]:
    """An empty batch (an incremental run with no change) has no values to judge: only the
    table-level expectations (its row count) apply; a stale *table* is dbt source freshness's
    business, not a batch's."""
    if len(typed):
        return contract.expectations
    return tuple(e for e in contract.expectations if e.type.startswith("expect_table_"))


def _run_suite(contract: Contract, typed: pd.DataFrame, now: datetime) -> list[Finding]:
    expectations_to_run = _applicable(contract, typed)
    if not expectations_to_run:
        return []
    import great_expectations as gx  # lazy: see the module docstring
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    name = re.sub(r"\W", "_", contract.qualified_name) + "_" + uuid.uuid4().hex[:6]
    batch = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("batch")
    )
    expectations = [
        build_expectation(gx, e, position, now) for position, e in enumerate(expectations_to_run)
    ]
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    # Only the columns the suite reads: GX copies and fingerprints (pickles) the frame it is
    # given, which for nested objects costs more than every expectation together.
    used = sorted({name for e in expectations_to_run for name in e.columns})
    frame = _with_derived(contract, typed)[used]
    run = validation.run(batch_parameters={"dataframe": frame}, result_format="COMPLETE")
    return [_finding(expectation, outcome)
            for expectation, outcome in failed_outcomes(run, expectations_to_run)]


def failed_outcomes(run: Any, expectations: Sequence[Expectation]) -> list[tuple[Expectation, Any]]:
    """Each failed expectation of a GX validation run with GX's outcome; an expectation GX could
    not evaluate raises, naming it (the suite then fails as not run, never passes)."""
    failed = []
    for outcome in run.results:
        expectation = expectations[outcome.expectation_config.meta["position"]]
        message = raised_message(outcome.exception_info)
        if message is not None:
            raise RuntimeError(f"{expectation.type} on {expectation.column}: {message}")
        if not outcome.success:
            failed.append((expectation, outcome))
    return failed
