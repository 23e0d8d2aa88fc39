"""The `schema_contract` audit: the contract's Pandera model over the staged batch.

Pandera's failure cases are grouped by (column, check). A case that names a row is a row-level
finding; one that does not (a missing or unknown column, a whole-column type failure) is a
schema-level finding. A type mismatch found while building the frame (a JSON string where the
contract wants an integer) quarantines its row (rule `dtype`), and the model validates the
other rows; only a column whose every value has the wrong type is schema-level: the source
changed shape.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import pandera.pandas as pa

from checks.findings import MAX_EXAMPLES, AuditResult, Finding
from checks.frame import AuditFrame
from contracts.base import Contract

CHECK_NAME = "schema_contract"
# Pandera checks that are about the frame's shape rather than any row's values.
SCHEMA_CHECKS = {"column_in_dataframe", "column_in_schema", "dtype", "coerce_dtype"}
# Frame-level Pandera checks about the set of columns or rows, not a row's values.
_COLUMN_SET = {"multiple_fields_uniqueness", "column_ordered", "dataframe_column_labels_unique"}


def structural_findings(quarantined_by_rule: Counter, columns: dict[str, str | None],
                        keys: dict[str, list[Any]] | None = None) -> list[Finding]:
    """Records already quarantined while parsing (no object, no key, bad modification time). They
    were never staged, so they name no staged rows (they are already in the quarantine); their
    examples are the primary keys they had, if any."""
    keys = keys or {}
    return [
        Finding(rule, columns.get(rule), "row", count, f"record structure: {rule}",
                examples=list(keys.get(rule, ()))[:MAX_EXAMPLES])
        for rule, count in quarantined_by_rule.most_common()
    ]


def in_contract_order(findings: list[Finding], contract: Contract) -> list[Finding]:
    """Rule findings by the column they read (the model's order; row-wide rules last), then
    rule: the order does not depend on which engine found them (`checks.judges`)."""
    position = {column.name: i for i, column in enumerate(contract.columns)}

    def key(finding: Finding) -> tuple[int, str]:
        first = (finding.column or "").split(",")[0]
        return position.get(first, len(position)), finding.rule

    return sorted(findings, key=key)


def _mismatch_findings(frame: AuditFrame) -> list[Finding]:
    findings = []
    for column, miss in frame.mismatches.items():
        if miss.wholesale:
            reason = (f"every value of {column!r} ({miss.count}) is not {miss.expected}: "
                      "the source changed the field's type")
        else:
            reason = f"{miss.count} values of {column!r} are not {miss.expected}"
        findings.append(Finding("dtype", column, "batch" if miss.wholesale else "row",
                                miss.count, reason, rows=miss.rows, examples=miss.examples))
    return findings


def _is_null(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _row_checks_once(cases: pd.DataFrame) -> pd.DataFrame:
    """Pandera reports a failed dataframe check once per column of each failing row; it is one
    rule of the row, about no single column."""
    frame_level = (cases["schema_context"] == "DataFrameSchema") & \
        ~cases["check"].astype(str).str.split("(").str[0].isin(SCHEMA_CHECKS | _COLUMN_SET)
    if not frame_level.any():
        return cases
    once = cases[frame_level].assign(column=None, failure_case=None) \
        .drop_duplicates(subset=["check", "index"])
    return pd.concat([cases[~frame_level], once], ignore_index=True)


def _case_findings(cases: pd.DataFrame) -> list[Finding]:
    cases = _row_checks_once(cases)
    findings = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        column = None if _is_null(column) else str(column)
        check = str(check)
        name = check.split("(")[0]
        if name == "coerce_dtype" and group["failure_case"].map(_is_null).all():
            continue  # a null in a non-null column: `not_nullable` already reports those rows
        rows = [int(i) for i in group["index"] if not _is_null(i)]
        # A row-wide rule has no one value to show.
        examples = list(group["failure_case"].head(MAX_EXAMPLES)) if column is not None else []
        if name in {"column_in_dataframe", "column_in_schema"}:
            for missing in group["failure_case"]:
                verb = "is missing from" if name == "column_in_dataframe" else "is not in"
                findings.append(Finding(check, str(missing), "batch", 1,
                                        f"column {missing!r} {verb} the contract's columns"
                                        if verb == "is not in" else
                                        f"column {missing!r} {verb} the batch"))
            continue
        level = "batch" if name in SCHEMA_CHECKS or not rows else "row"
        count = len(set(rows)) if rows else len(group)
        findings.append(Finding(check, column, level, count,
                                f"{count} rows of {column!r} fail {check}", rows=sorted(set(rows)),
                                examples=examples))
    return findings


def pandera_audit(contract: Contract, frame: AuditFrame) -> tuple[AuditResult, pd.DataFrame | None]:
    """The audit result and, when the shape is right, the batch typed by the contract."""
    result = AuditResult(CHECK_NAME, frame.rows, findings=_mismatch_findings(frame))
    # Rows with a value of the wrong type are already quarantined (`dtype`); the model judges
    # the others, so one bad value costs its row and not the batch.
    retyped = sorted({row for finding in result.findings for row in finding.rows})
    data = frame.data.drop(index=retyped) if retyped else frame.data
    typed: pd.DataFrame | None = None
    try:
        typed = contract.model.validate(data, lazy=True)
    except pa.errors.SchemaErrors as errors:
        result.findings += in_contract_order(_case_findings(errors.failure_cases), contract)
        typed = errors.data
    except pa.errors.SchemaError as error:  # raised for some frame-level failures even if lazy
        result.findings.append(Finding(str(error.check or "schema"), None, "batch", 1, str(error)))
    except Exception as error:  # a rule that cannot run must fail the check, not pass it
        result.error = f"the Pandera contract could not run: {type(error).__name__}: {error}"
    if result.error or result.blocking:
        typed = None
    return result, typed
