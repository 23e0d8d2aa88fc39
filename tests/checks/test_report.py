"""What a check result shows, on real audits of small frames: inline tables with a schema and
masked values, only three figures to plot, a one-sentence description, bounded metadata with a
note of what was left out, and values of unknown types shown by type only."""

from __future__ import annotations

import json

import dagster as dg
from dagster_shared.serdes import serialize_value

from checks.findings import AuditResult, Finding
from checks.frame import frame_from_records
from checks.gx_audit import gx_audit
from checks.masking import mask
from checks.pandera_audit import pandera_audit
from checks.policy import decide
from checks.report import BatchQuarantine, check_result
from checks.tables import MAX_CELL_CHARS, MAX_RULE_ROWS, MAX_SAMPLE_ROWS
from contracts.base import Expectation
from tests.checks.test_audits import QUARANTINE, contract, records

FIGURES = {"rows_audited", "rows_failing", "failure_fraction"}
# Half the 64 KiB a MySQL TEXT holds: Dagster keeps each evaluation whole in one such field.
EVALUATION_BUDGET = 32 * 1024


def _bad_emails(*rows: int) -> tuple[list, dict]:
    data = records()
    for row in rows:
        data[row - 1][1]["email"] = f"kim.minji{row}#example.com"
    return data, {row: data[row - 1][1]["email"] for row in rows}


def _schema_result(data) -> dg.AssetCheckResult:
    frame = frame_from_records(data, contract())
    result, typed = pandera_audit(contract(), frame)
    verdict = decide(contract(), [result], rows_staged=len(data), structural_quarantined=0)
    where = BatchQuarantine("b1", QUARANTINE.query, QUARANTINE.path, len(verdict.quarantine))
    return check_result(result, verdict, contract(), dg.AssetKey("orders"), typed, where)


def _cells(table: dg.TableMetadataValue) -> str:
    return json.dumps([record.data for record in table.records])


def test_rules_and_sample_are_tables_with_schemas_and_masked_values():
    data, raw = _bad_emails(2, 5)
    evaluation = _schema_result(data)
    rules, sample = evaluation.metadata["rules"], evaluation.metadata["failing_sample"]
    assert isinstance(rules, dg.TableMetadataValue) and isinstance(sample, dg.TableMetadataValue)
    assert [(c.name, c.type) for c in rules.schema.columns] == [
        ("rule", "string"), ("column", "string"), ("level", "string"), ("rows", "int"),
        ("examples", "string")]
    assert [(c.name, c.type) for c in sample.schema.columns] == [
        ("row", "string"), ("key", "string"), ("rule", "string"), ("column", "string"),
        ("value", "string")]
    (rule,) = rules.records
    assert rule.data["column"] == "email" and rule.data["rows"] == 2 and rule.data["level"] == "row"
    assert [(r.data["row"], r.data["key"]) for r in sample.records] == [("2", "2"), ("5", "5")]
    assert {r.data["value"] for r in sample.records} == {mask(v, "email") for v in raw.values()}
    assert mask(raw[2], "email") in rule.data["examples"]
    everything = _cells(rules) + _cells(sample) + json.dumps(
        {k: str(v.value) for k, v in evaluation.metadata.items()}) + evaluation.description
    assert not any(email in everything for email in raw.values())
    assert "buyer" not in everything  # not even the good e-mails of the batch


def test_only_the_three_figures_are_numbers_and_the_rest_is_text():
    evaluation = _schema_result(_bad_emails(3)[0])
    numeric = {name for name, value in evaluation.metadata.items()
               if isinstance(value, dg.IntMetadataValue | dg.FloatMetadataValue)}
    assert numeric == FIGURES
    metadata = evaluation.metadata
    assert "examples" not in metadata and "max_quarantine_fraction" not in metadata
    assert metadata["quarantine_limit"] == dg.MetadataValue.text("25% of rows")
    assert metadata["quarantine_query"] == dg.MetadataValue.text(QUARANTINE.query)
    assert metadata["quarantine_path"] == dg.MetadataValue.path(QUARANTINE.path)
    assert metadata["batch_id"].value == "b1" and metadata["table"].value == "shop.orders"
    assert metadata["owner"].value == "team:commerce <commerce@example.com>"


def test_the_description_is_one_sentence_of_what_happened_to_the_batch():
    quarantined = _schema_result(_bad_emails(2, 5)[0]).description
    assert quarantined == ("2 of 8 rows of shop.orders broke 1 rule; they were quarantined and "
                           "the other 6 published.")
    blocked = _schema_result(_bad_emails(1, 2, 3)[0]).description  # 3 of 8, over 25%
    assert blocked.startswith("shop.orders was blocked: 3 of 8 records (37.5%) broke row rules")
    assert blocked.endswith("; nothing was published.")
    assert _schema_result(records()).description == "All 8 rows of shop.orders passed."
    suite = contract(expectations=(Expectation(
        "expect_column_mean_to_be_between", {"column": "total", "max_value": 1},
        on_failure="warn"),))
    typed = pandera_audit(suite, frame_from_records(records(), suite))[1]
    result = gx_audit(suite, typed)
    warned = check_result(result, decide(suite, [result], 8, 0), suite, dg.AssetKey("orders"),
                          typed, QUARANTINE).description
    assert warned.startswith("All 8 rows of shop.orders passed; 1 warning: "
                             "expect_column_mean_to_be_between failed")
    for text in (quarantined, blocked, warned):
        assert text.count(". ") == 0 and text.endswith(".") and len(text) < 1000


def test_a_column_retyped_in_every_record_names_the_rule_and_its_level():
    data = records()
    for _, record in data:
        record["total"] = {"amount": 1}
    evaluation = _schema_result(data)
    assert evaluation.description.startswith(
        "shop.orders was blocked: 8 of 8 rows broke dtype (level batch): every value of 'total'")
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR


def _flood(findings: int, rows_each: int) -> AuditResult:
    """Many rules, many rows, and values long enough to reach every cap: Korean text, which
    Dagster's serializer writes as \\u escapes (six bytes a character)."""
    long = "가나다라마바사" * 60
    return AuditResult("quality_expectations", 100_000, findings=[
        Finding(f"rule_{n}_{long[:150]}", "total", "row", rows_each, "broke it",
                rows=list(range(n * rows_each + 1, (n + 1) * rows_each + 1)),
                examples=[long, long + "!", long + "?"])
        for n in range(findings)])


def test_metadata_over_the_bounds_is_cut_with_a_note_of_what_was_left_out():
    result = _flood(findings=80, rows_each=30)
    verdict = decide(contract(max_quarantine_fraction=0.5), [result], 100_000, 0)
    where = BatchQuarantine("b1", QUARANTINE.query, QUARANTINE.path, 2_400)
    evaluation = check_result(result, verdict, contract(), dg.AssetKey("orders"), None, where)
    metadata = evaluation.metadata
    rules, sample = metadata["rules"].records, metadata["failing_sample"].records
    assert 0 < len(rules) <= MAX_RULE_ROWS and 0 < len(sample) <= MAX_SAMPLE_ROWS
    assert metadata["rules_truncated"].value == (
        f"{80 - len(rules)} more rules not shown; every failing row is in {QUARANTINE.query}")
    assert metadata["failing_sample_truncated"].value.startswith(
        f"{2_400 - len(sample):,} more failing rows not shown; every failing row is in ")
    assert all(len(value) <= MAX_CELL_CHARS for record in rules + sample
               for value in record.data.values() if isinstance(value, str))
    stored = serialize_value(dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("orders"), check_name=evaluation.check_name,
        passed=evaluation.passed, metadata=metadata, description=evaluation.description,
        severity=evaluation.severity))
    assert len(stored.encode()) < EVALUATION_BUDGET, len(stored.encode())


def test_a_table_within_bounds_has_no_note():
    evaluation = _schema_result(_bad_emails(2)[0])
    assert not {"rules_truncated", "failing_sample_truncated"} & set(evaluation.metadata)


class Opaque:
    """A value no masking rule knows: its text would be whatever it chooses to say."""

    def __str__(self) -> str:
        return "kim.minji@example.com"


def test_a_value_of_an_unknown_type_is_shown_as_its_type_only():
    for pii in (None, "email"):
        assert mask(b"kim.minji@example.com", pii) == "<bytes>"
        assert mask(Opaque(), pii) == "<Opaque>"
    assert mask([1, Opaque()], None) == '[1, "<Opaque>"]'
    result = AuditResult("schema_contract", 8, findings=[
        Finding("dtype", "total", "row", 2, "not a number", examples=[b"\x00raw", Opaque()])])
    verdict = decide(contract(), [result], 8, 0)
    evaluation = check_result(result, verdict, contract(), dg.AssetKey("orders"), None,
                              QUARANTINE)
    (rule,) = evaluation.metadata["rules"].records
    assert rule.data["examples"] == "<bytes>, <Opaque>"
    assert "example.com" not in _cells(evaluation.metadata["rules"])
