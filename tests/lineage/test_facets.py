"""Facets and identities from contracts and audits: what stewards see in Marquez, value-free.

Real parts: the project's contracts, the Pandera and Great Expectations audits on small frames,
the OpenLineage facet classes, the official JSON Schemas and dbt's own manifest.
"""

from __future__ import annotations

import json
import re

from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
from openlineage.client.serde import Serde

from checks.audit import BatchAudit
from checks.findings import AuditResult
from checks.frame import frame_from_records
from checks.gx_audit import CHECK_NAME as QUALITY
from checks.gx_audit import gx_audit
from checks.pandera_audit import CHECK_NAME as SCHEMA
from checks.pandera_audit import pandera_audit
from checks.policy import decide
from contracts import CONTRACTS
from contracts.base import Expectation
from lineage import facets, naming
from lineage.extraction import scrub
from lineage.naming import NAMESPACE, PRODUCER
from resources.raw_zone import RawZone, TableRef
from resources.transformer import manifest_path, transformer_project
from tests.checks.test_audits import contract, records
from tests.lineage import marquez_store
from tests.lineage.spec import validate_event

# Marquez 0.51.1's dataset namespace pattern (tests/lineage/reference/openlineage-marquez.md)
MARQUEZ_DATASET_NAMESPACE = r"[a-zA-Z:;=/0-9_\-.@+]{1,1024}"

SUITE = (Expectation("expect_column_values_to_be_between", {"column": "total", "max_value": 50},
                     on_failure="warn"),
         Expectation("expect_table_row_count_to_be_between", {"min_value": 1}, on_failure="block"))


def audit_of(rows, **overrides) -> BatchAudit:
    """The project's audits on `rows`, as `checks.audit` runs them, minus the staged file."""
    table = contract(expectations=SUITE, **overrides)
    frame = frame_from_records(rows, table)
    schema, typed = pandera_audit(table, frame)
    quality = gx_audit(table, typed) if typed is not None else AuditResult(
        QUALITY, frame.rows, error="not run")
    verdict = decide(table, [schema, quality], frame.rows, 0)
    nulls = {name: int(frame.data[name].isna().sum()) for name in frame.data.columns}
    return BatchAudit(verdict, [schema, quality], [], {}, nulls, frame.rows)


def as_event(contract_, audit: BatchAudit) -> dict:
    """The quality facets on an input dataset of a minimal event, as JSON would carry them."""
    dataset = InputDataset("file", "/staging/shop/orders",
                           facets=facets.contract_facets(contract_, "file", "/staging/shop/orders"),
                           inputFacets=facets.quality_facets(contract_, audit))
    event = RunEvent(eventType=RunState.COMPLETE, eventTime="2026-11-27T00:00:00+00:00",
                     run=Run(runId="01a21c52-5a4d-715b-b978-b37a95b9c68c"),
                     job=Job(namespace=NAMESPACE, name="probe"), inputs=[dataset],
                     producer=PRODUCER)
    return json.loads(Serde.to_json(event))


def assertions(event: dict) -> list[dict]:
    return event["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]


def test_contract_facets_carry_types_descriptions_pii_tags_and_owners_for_every_table():
    """Every project contract gives schema, tags, ownership and documentation facets that
    hold to the spec; each PII column is tagged `pii=<class>` on its field."""
    audit = audit_of(records())  # the quality facets are not under test here
    for table in CONTRACTS:
        event = as_event(table, audit)
        checked = validate_event(event)
        assert {"schema", "tags", "ownership", "documentation", "dataSource"} <= {
            key.rsplit(": ", 1)[1] for key in checked}
        fields = {f["name"]: f for f in event["inputs"][0]["facets"]["schema"]["fields"]}
        assert list(fields) == [column.name for column in table.columns]
        assert all(f["description"] and f["type"] for f in fields.values())
        tags = event["inputs"][0]["facets"]["tags"]["tags"]
        assert {(t["field"], t["value"]) for t in tags} == set(table.pii_columns.items())
        assert {t["key"] for t in tags} <= {"pii"}
        owners = {o["name"] for o in event["inputs"][0]["facets"]["ownership"]["owners"]}
        assert owners == {f"team:{table.owner.team}", f"mailto:{table.owner.email}"}


def test_a_clean_batch_asserts_every_contract_rule_as_passed():
    audit = audit_of(records())
    event = as_event(contract(expectations=SUITE), audit)
    validate_event(event)
    found = assertions(event)
    assert all(a["success"] for a in found)
    names = {(a["params"]["check"], a["assertion"], a.get("column")) for a in found}
    assert {(SCHEMA, "dtype", "id"), (SCHEMA, "field_uniqueness", "id"),
            (SCHEMA, "str_matches", "email"), (SCHEMA, "not_nullable", "total"),
            (QUALITY, "expect_column_values_to_be_between", "total"),
            (QUALITY, "expect_table_row_count_to_be_between", None)} <= names
    severity = {a["assertion"]: a["severity"] for a in found if a["params"]["check"] == QUALITY}
    assert severity == {"expect_column_values_to_be_between": "warn",
                        "expect_table_row_count_to_be_between": "error"}
    metrics = event["inputs"][0]["inputFacets"]["dataQualityMetrics"]
    assert metrics["rowCount"] == 8
    assert metrics["columnMetrics"]["email"] == {"nullCount": 0}


def test_broken_rules_fail_with_their_row_counts_and_no_values():
    """Two bad e-mails in 8 rows (within the 25% limit): quarantined, so "warn"; the same rule
    in a blocked batch is an "error". Neither event quotes the bad values."""
    rows = records()
    rows[1][1]["email"] = "first-bad-address"
    rows[2][1]["email"] = "second-bad-address"
    quarantined = audit_of(rows)
    blocked = audit_of(rows, max_quarantine_fraction=0.1)
    for audit, severity in ((quarantined, "warn"), (blocked, "error")):
        event = as_event(contract(expectations=SUITE), audit)
        validate_event(event)
        (broken,) = [a for a in assertions(event) if not a["success"]]
        assert (broken["assertion"], broken["column"], broken["severity"]) == (
            "str_matches", "email", severity)
        assert (broken["expected"], broken["actual"]) == ("0", "2")
        text = json.dumps(event)
        assert "bad-address" not in text and "buyer2@example.com" not in text


def test_an_audit_that_could_not_run_reports_that_instead_of_its_rules_as_passed():
    rows = records()
    for _, record in rows:  # the key's type changed in every record: the schema blocks the
        record["id"] = str(record["id"])  # batch, so the GX suite never runs
    event = as_event(contract(expectations=SUITE), audit_of(rows))
    found = assertions(event)
    assert not [a for a in found if a["params"]["check"] == QUALITY and a["success"]]
    assert {"assertion": "audit_ran", "success": False, "severity": "error"}.items() <= next(
        a for a in found if a["name"] == f"{QUALITY}.audit_ran").items()
    assert any(a["assertion"] == "dtype" and not a["success"] for a in found)
    assert "one" not in {a.get("actual") for a in found}


def test_raw_tables_are_named_as_openlineage_dbt_names_the_sources_dbt_reads(tmp_path):
    """`<database>.<schema>.<table>` in `duckdb://<warehouse>`: the node an extraction writes is
    the node the dbt models read, for every source in dbt's manifest."""
    manifest = json.loads(manifest_path(transformer_project()).read_text())
    zone = RawZone(tmp_path / "raw", tmp_path / "warehouse.duckdb")
    sources = {(s["schema"], s["name"]): s for s in manifest["sources"].values()}
    for table in CONTRACTS:
        ref = TableRef(table.source, table.table)
        source = sources[(ref.schema, ref.table)]
        identity = naming.raw_table(zone, ref)
        assert identity.name == f"{source['database']}.{source['schema']}.{source['name']}"
        assert identity.namespace == f"duckdb://{tmp_path / 'warehouse.duckdb'}"


def test_a_warehouse_path_marquez_would_refuse_still_gives_a_valid_distinct_namespace(tmp_path):
    """A space, `~` or a non-ASCII letter in the data folder would make every dataset namespace
    invalid in Marquez (400), and a `=` or `;` would be rewritten for the dataset's row (a second,
    empty namespace); each such character is written as `+XX` per UTF-8 byte, and `+` itself
    too, so two different folders never share a namespace and Marquez keeps each as it is."""
    pattern = re.compile(MARQUEZ_DATASET_NAMESPACE)
    folders = [tmp_path / "my shop", tmp_path / "café~", tmp_path / "my+20shop",
               tmp_path / "a=b;c", tmp_path / "plain"]
    namespaces = [naming.warehouse_table(f / "warehouse.duckdb", "raw", "t").namespace
                  for f in folders]
    assert all(pattern.fullmatch(ns) for ns in namespaces), namespaces
    assert all(marquez_store.job_namespace(ns) == ns for ns in namespaces), namespaces
    assert len(set(namespaces)) == len(folders)
    assert namespaces[0].endswith("/my+20shop/warehouse.duckdb")
    assert namespaces[1].endswith("/caf+C3+A9+7E/warehouse.duckdb")
    assert namespaces[3].endswith("/a+3Db+3Bc/warehouse.duckdb")
    assert namespaces[4] == f"duckdb://{tmp_path / 'plain' / 'warehouse.duckdb'}"


def test_source_identities_never_carry_credentials():
    pg = naming.postgres_table("postgresql://reader:pa55word@/wise?host=/tmp/sock%20dir",
                               "quotation")
    assert (pg.namespace, pg.name) == ("postgres://localhost:5432", "wise.public.quotation")
    remote = naming.postgres_table("host=db.internal port=6432 dbname=wise user=r password=x",
                                   "point_transaction")
    assert (remote.namespace, remote.name) == ("postgres://db.internal:6432",
                                               "wise.public.point_transaction")
    assert naming.url_password("postgresql://reader:pa55word@/wise") == "pa55word"
    api = naming.bigcommerce_endpoint("https://user:token@api.bigcommerce.com", "abc123",
                                      "GET /v3/catalog/products?include=variants")
    assert (api.namespace, api.name) == ("https://api.bigcommerce.com",
                                         "stores/abc123/v3/catalog/products")
    local = naming.bigcommerce_endpoint("http://127.0.0.1:43123", "s", "GET /v2/orders")
    assert local.namespace == "http://127.0.0.1:43123"


def test_messages_are_scrubbed_of_url_credentials_and_known_secrets():
    text = scrub("POST https://bob:hunter22@marquez/api failed; token tok-123456 refused",
                 ["tok-123456"])
    assert "hunter22" not in text and "tok-123456" not in text and "https://***@" in text
