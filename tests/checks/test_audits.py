"""The audit machinery on small, real frames: typing, masking, policy, and audits that fail
loudly when they cannot run (a broken GX suite is a failed check, never a silent pass)."""

from __future__ import annotations

import json
from collections import Counter

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from checks import CHECK_NAMES, contract_check_specs
from checks.findings import AuditResult, Finding
from checks.frame import frame_from_records
from checks.gx_audit import gx_audit
from checks.masking import mask
from checks.pandera_audit import pandera_audit
from checks.policy import decide
from checks.report import BatchQuarantine, check_result
from contracts.base import Contract, Expectation, Owner


class Orders(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Order id.")
    email: Series[str] = pa.Field(str_matches=r"^[^@]+@[^@]+$", description="Buyer e-mail.",
                                  metadata={"pii": "email"})
    total: Series[float] = pa.Field(ge=0, description="Order total.")
    created: Series[pd.DatetimeTZDtype] = pa.Field(
        dtype_kwargs={"unit": "ns", "tz": "UTC"}, description="Created.",
        metadata={"format": "rfc2822"})

    class Config:
        description = "Test orders."
        coerce = True
        strict = True


def contract(**overrides) -> Contract:
    options = {"source": "shop", "table": "orders", "model": Orders,
               "owner": Owner("commerce", "commerce@example.com"), "primary_key": "id",
               "max_quarantine_fraction": 0.25}
    return Contract(**{**options, **overrides})


QUARANTINE = BatchQuarantine("b1", "SELECT * FROM quarantine.shop__orders WHERE _batch_id = 'b1'",
                             "/raw/quarantine/shop/orders/b1.parquet", rows=1)


def records(n: int = 8) -> list[tuple[int, dict]]:
    return [(row, {"id": row, "email": f"buyer{row}@example.com", "total": f"{row}.5000",
                   "created": "Mon, 02 Nov 2026 06:04:02 +0000"}) for row in range(1, n + 1)]


def test_the_frame_types_columns_by_the_contract_and_reports_other_json_types():
    rows = records()
    rows[2][1]["id"] = "3"  # a string where the contract wants an integer
    frame = frame_from_records(rows, contract())
    assert str(frame.data["total"].dtype) == "float64" and frame.data.loc[1, "total"] == 1.5
    assert str(frame.data["created"].dtype) == "datetime64[ns, UTC]"
    assert list(frame.data.index) == list(range(1, 9))
    (column, mismatch), = frame.mismatches.items()
    assert column == "id" and mismatch.rows == [3] and mismatch.examples == ["3"]


def test_pii_is_shown_by_shape_only():
    assert mask("kim.minji#example.com", "email") == "xxx.xxxxx#xxxxxxx.xxx"
    assert mask("010-1234-5678", "phone") == "999-9999-9999"
    assert mask({"street": "테헤란로 129"}, "address") == "<address masked, size 1>"
    assert mask("KRW", None) == "KRW"


def test_row_failures_under_the_limit_quarantine_those_rows_only():
    rows = records()
    rows[1][1]["email"] = "nobody"
    rows[4][1]["total"] = "-1.0000"
    frame = frame_from_records(rows, contract())
    result, typed = pandera_audit(contract(), frame)
    assert typed is not None and {f.column for f in result.findings} == {"email", "total"}
    verdict = decide(contract(), [result], rows_staged=8, structural_quarantined=0)
    assert verdict.outcome == "quarantined" and set(verdict.quarantine) == {2, 5}
    assert verdict.quarantine[2].rule.startswith("str_matches")


def test_too_many_bad_rows_block_the_batch():
    rows = records()
    for _, record in rows[:3]:
        record["total"] = "-1.0000"
    result, _ = pandera_audit(contract(), frame_from_records(rows, contract()))
    verdict = decide(contract(), [result], rows_staged=8, structural_quarantined=0)
    assert verdict.outcome == "blocked" and "over the contract's limit of 25%" in verdict.summary


def test_an_unknown_column_under_a_strict_contract_blocks():
    rows = records()
    rows[0][1]["coupon"] = "SPRING"
    result, typed = pandera_audit(contract(), frame_from_records(rows, contract()))
    assert typed is None
    (finding,) = result.blocking
    assert finding.rule == "column_in_schema" and finding.column == "coupon"
    assert decide(contract(), [result], 8, 0).outcome == "blocked"


def test_a_gx_suite_that_cannot_run_is_a_failed_check():
    broken = contract(expectations=(Expectation("expect_column_values_to_be_shiny",
                                                {"column": "id"}),))
    typed = pandera_audit(broken, frame_from_records(records(), broken))[1]
    result = gx_audit(broken, typed)
    assert result.error and "expect_column_values_to_be_shiny" in result.error
    verdict = decide(broken, [result], 8, 0)
    assert verdict.outcome == "blocked"
    evaluation = check_result(result, verdict, broken, dg.AssetKey("orders"), typed, QUARANTINE)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR


def test_gx_row_failures_name_their_staged_rows_and_pii_stays_masked():
    suite = contract(expectations=(
        Expectation("expect_column_values_to_match_regex",
                    {"column": "email", "regex": r"@example\.com$"}),
    ))
    rows = records()
    rows[5][1]["email"] = "buyer6@elsewhere.org"
    typed = pandera_audit(suite, frame_from_records(rows, suite))[1]
    result = gx_audit(suite, typed)
    (finding,) = result.findings
    assert finding.level == "row" and finding.rows == [6]
    verdict = decide(suite, [result], 8, 0)
    evaluation = check_result(result, verdict, suite, dg.AssetKey("orders"), typed, QUARANTINE)
    shown = json.dumps({k: str(v.value) for k, v in evaluation.metadata.items()})
    assert "buyer6@elsewhere.org" not in shown and "xxxxx9@xxxxxxxxx.xxx" in shown
    assert evaluation.metadata["outcome"].value == "quarantined"
    assert evaluation.metadata["rows_failing"].value == 1


def test_a_warn_only_expectation_reports_without_quarantining():
    suite = contract(expectations=(
        Expectation("expect_column_mean_to_be_between", {"column": "total", "max_value": 1},
                    on_failure="warn"),
    ))
    typed = pandera_audit(suite, frame_from_records(records(), suite))[1]
    result = gx_audit(suite, typed)
    (finding,) = result.findings
    assert finding.level == "warn" and not result.failing_rows
    verdict = decide(suite, [result], 8, 0)
    assert verdict.outcome == "passed"  # the batch publishes whole...
    evaluation = check_result(result, verdict, suite, dg.AssetKey("orders"), typed, QUARANTINE)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["outcome"].value == "warned"  # ...and the steward is told


def test_records_quarantined_while_parsing_count_against_the_limit():
    empty = AuditResult("schema_contract", 6, findings=[
        Finding("primary_key_integer", "id", "row", 2, "record structure")])
    verdict = decide(contract(), [empty], rows_staged=6, structural_quarantined=2)
    assert verdict.outcome == "quarantined"
    verdict = decide(contract(max_quarantine_fraction=0.2), [empty], 6, 2)
    assert verdict.outcome == "blocked" and "primary_key_integer" in verdict.summary


def test_one_factory_gives_any_contract_both_blocking_checks():
    specs = contract_check_specs(contract(), dg.AssetKey("orders"))
    assert tuple(spec.name for spec in specs) == CHECK_NAMES
    assert all(spec.blocking for spec in specs)


@pytest.mark.parametrize("counts", [Counter(), Counter({"primary_key_present": 1})])
def test_an_empty_batch_passes_the_schema_audit(counts):
    frame = frame_from_records([], contract())
    result, typed = pandera_audit(contract(), frame)
    assert result.findings == [] and typed is not None and len(typed) == 0


def test_an_empty_batch_is_judged_by_its_row_count_only():
    suite = contract(expectations=(
        Expectation("expect_table_row_count_to_be_between", {"min_value": 1}, on_failure="block"),
        Expectation("expect_column_max_to_be_between", {"column": "total", "min_value": 5},
                    on_failure="warn"),
    ))
    typed = pandera_audit(suite, frame_from_records([], suite))[1]
    (finding,) = gx_audit(suite, typed).findings
    assert finding.rule == "expect_table_row_count_to_be_between" and finding.level == "batch"


def test_a_frame_built_in_chunks_keeps_rows_types_and_late_fields(monkeypatch):
    """Chunk boundaries change nothing: staged rows, types, a mismatch in a later chunk and a
    field that only a later record has all come out as if the batch were read at once."""
    monkeypatch.setattr("checks.frame.CHUNK_ROWS", 3)
    rows = records(8)
    rows[6][1]["total"] = {"amount": 7}  # wrong JSON type, third chunk
    rows[7][1]["coupon"] = "SPRING"  # a field no earlier record had
    frame = frame_from_records(rows, contract())
    assert list(frame.data.index) == list(range(1, 9))
    assert frame.mismatches["total"].rows == [7]
    assert frame.data["coupon"].tolist() == [None] * 7 + ["SPRING"]
    assert str(frame.data["created"].dtype) == "datetime64[ns, UTC]"
    assert frame.data["id"].tolist() == list(range(1, 9))
