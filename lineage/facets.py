"""OpenLineage facets from what the platform already knows: a contract and an audit.

Nothing here reads data: facets carry names, types, rules and counts, never a value, so no
PII can travel in an event. Every facet names this platform as its producer.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from openlineage.client.facet_v2 import (
    data_quality_assertions_dataset as dqa,
)
from openlineage.client.facet_v2 import (
    data_quality_metrics_input_dataset as dqm,
)
from openlineage.client.facet_v2 import (
    datasource_dataset,
    documentation_dataset,
    output_statistics_output_dataset,
    ownership_dataset,
    schema_dataset,
    tags_dataset,
)

from checks.audit import BatchAudit
from checks.findings import Finding
from checks.gx_audit import CHECK_NAME as QUALITY_CHECK
from checks.pandera_audit import CHECK_NAME as SCHEMA_CHECK
from contracts.base import Contract
from contracts.derive import sql_type
from lineage.naming import PRODUCER

TAG_SOURCE = "CONTRACT"  # where a PII tag comes from: the table's contract


def field_type(spelling: str | None) -> str | None:
    """One spelling of a column type in every event: upper case (`bigint` -> `BIGINT`).

    Marquez identifies a field by its name *and* type, so the extraction's `BIGINT` and dbt's
    `bigint` for one column would be listed as two fields."""
    return spelling.strip().upper() if spelling and spelling.strip() else None


def contract_facets(contract: Contract, namespace: str, name: str = "",
                    description: str | None = None) -> dict:
    """schema, tags, ownership, documentation and dataSource of a table holding the contract's
    columns. Types are as the raw table exposes them (DuckDB), which is what readers query.
    `description` replaces the contract's own (a published table says where it comes from)."""
    fields = [
        schema_dataset.SchemaDatasetFacetFields(
            name=column.name, type=field_type(sql_type(column)), description=column.description,
            ordinal_position=position,
        )
        for position, column in enumerate(contract.columns, start=1)
    ]
    tags = [
        tags_dataset.TagsDatasetFacetFields(key="pii", value=pii, source=TAG_SOURCE, field=name)
        for name, pii in contract.pii_columns.items()
    ]
    owner = contract.owner
    owners = [ownership_dataset.Owner(name=f"team:{owner.team}", type="MAINTAINER"),
              ownership_dataset.Owner(name=f"mailto:{owner.email}", type="CONTACT")]
    return {
        "schema": schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER),
        "tags": tags_dataset.TagsDatasetFacet(tags=tags, producer=PRODUCER),
        "ownership": ownership_dataset.OwnershipDatasetFacet(owners=owners, producer=PRODUCER),
        "documentation": documentation(description or contract.description),
        "dataSource": data_source(namespace, name),
    }


def documentation(text: str) -> documentation_dataset.DocumentationDatasetFacet:
    return documentation_dataset.DocumentationDatasetFacet(description=text, producer=PRODUCER)


def data_source(namespace: str, name: str = "") -> datasource_dataset.DatasourceDatasetFacet:
    """Named by its namespace, as OpenLineage's dbt integration names its sources. A bare
    namespace (`file`) is no URI: the dataset's own `file://` URI stands in for it.

    The URI is percent-encoded (a space, a non-ASCII letter): Marquez stores it as its source's
    `connection_url` only when `java.net.URI` can parse it, and fails the whole event with a
    500 otherwise (OpenLineageDao.getUrlOrNull gives NULL to a NOT NULL column)."""
    uri = namespace if "://" in namespace else f"{namespace}://{name}"
    uri = quote(uri, safe=":/?#[]@!$&'()*+,;=%~")
    return datasource_dataset.DatasourceDatasetFacet(name=namespace, uri=uri, producer=PRODUCER)


def output_statistics(rows: int, size: int | None = None, files: int | None = None) -> dict:
    facet = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
        rowCount=rows, size=size, fileCount=files, producer=PRODUCER)
    return {"outputStatistics": facet}


def quality_facets(contract: Contract, audit: BatchAudit) -> dict:
    """The audit as input facets of the audited batch: assertions and metrics."""
    metrics = dqm.DataQualityMetricsInputDatasetFacet(
        rowCount=audit.rows_audited,
        columnMetrics={name: dqm.ColumnMetrics(nullCount=count, quantiles=None)
                       for name, count in audit.null_counts.items()},
        producer=PRODUCER,
    )
    assertions = dqa.DataQualityAssertionsDatasetFacet(assertions=assertions_of(contract, audit),
                                                       producer=PRODUCER)
    return {"dataQualityAssertions": assertions, "dataQualityMetrics": metrics}


def _base(rule: str) -> str:
    """`greater_than_or_equal_to(0)` -> `greater_than_or_equal_to`: the rule's kind."""
    return rule.split("(", 1)[0]


def contract_rules(contract: Contract) -> list[tuple[str, str, str | None, str, str | None]]:
    """(check, rule, column, severity, content) of every rule the contract states, named as
    the audits name their findings. Severity is what a failure can do: "error" (it can block
    the batch: any shape rule, any row rule past the quarantine limit) or "warn"."""
    rules = []
    for column in contract.columns:
        names = [f"dtype('{column.dtype}')", *(["not_nullable"] if not column.nullable else []),
                 *(["field_uniqueness"] if column.unique else []), *column.rules]
        rules += [(SCHEMA_CHECK, name, column.name, "error", None) for name in names]
    rules += [(SCHEMA_CHECK, check.name, None, "error", None) for check in contract.schema.checks]
    for expectation in contract.expectations:
        content = json.dumps(dict(expectation.kwargs), sort_keys=True, default=str)
        severity = "warn" if expectation.on_failure == "warn" else "error"
        rules.append((QUALITY_CHECK, expectation.type, expectation.column, severity, content))
    return rules


def _failed(check: str, finding: Finding, blocked: bool, audited: int) -> dqa.Assertion:
    """A broken rule: "error" when it counts towards blocking this batch, else "warn"."""
    counts = blocked and finding.level != "warn"
    effect = ("warning only" if finding.level == "warn" else
              "the batch was blocked" if blocked else "those rows were quarantined")
    return dqa.Assertion(
        assertion=_base(finding.rule), name=f"{check}.{finding.rule}", column=finding.column,
        success=False, severity="error" if counts else "warn",
        expected="0", actual=str(finding.count),
        description=f"{finding.count} of {audited} rows break the rule; {effect}",
        params={"check": check, "level": finding.level, "unit": "rows"},
    )


def assertions_of(contract: Contract, audit: BatchAudit) -> list[dqa.Assertion]:
    """One assertion per rule: each contract rule that held, and each finding (a rule broken,
    with its row count). An audit that could not run reports that, not its rules as passed."""
    blocked = audit.verdict.outcome == "blocked"
    findings = {result.check: list(result.findings) for result in audit.results}
    did_not_run = {result.check for result in audit.results if result.error}
    assertions = []
    for check, rule, column, severity, content in contract_rules(contract):
        if check in did_not_run:
            continue
        left = findings.get(check, [])
        broken = [f for f in left if f.column == column and f.rule == rule] or [
            f for f in left if f.column == column and _base(f.rule) == _base(rule)]
        for finding in broken:
            left.remove(finding)
            assertions.append(_failed(check, finding, blocked, audit.rows_audited))
        if not broken:
            assertions.append(dqa.Assertion(
                assertion=_base(rule), name=f"{check}.{rule}", column=column, success=True,
                severity=severity, expected="0", actual="0", content=content,
                contentType="json" if content else None, params={"check": check, "unit": "rows"},
            ))
    for check, rest in findings.items():  # quarantined while parsing, unknown or missing columns
        assertions += [_failed(check, finding, blocked, audit.rows_audited) for finding in rest]
    assertions += [
        dqa.Assertion(assertion="audit_ran", name=f"{check}.audit_ran", success=False,
                      severity="error", description=f"{check} could not run; the batch is "
                      "blocked (the Dagster check result says why)", params={"check": check})
        for check in sorted(did_not_run)
    ]
    return assertions


__all__ = [
    "assertions_of",
    "contract_facets",
    "contract_rules",
    "data_source",
    "documentation",
    "field_type",
    "output_statistics",
    "quality_facets",
]
