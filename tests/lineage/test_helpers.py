"""The shared lineage test helpers catch what they promise to catch.

`validate_event` and the Marquez stand-in are what every other lineage test leans on; a helper
that accepted anything would make those tests pass for nothing. Real parts: the official JSON
Schemas. The stand-in's own tests: tests/lineage/test_marquez_standin.py.
"""

from __future__ import annotations

import jsonschema
import pytest
import referencing.exceptions

from tests.lineage.spec import edited, validate_event

FACETS = "https://openlineage.io/spec/facets"
PRODUCER = "https://example.com/producer"


def facet(schema: str, **fields) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": f"{FACETS}/{schema}", **fields}


def good_event() -> dict:
    return {
        "eventType": "FAIL",
        "eventTime": "2026-11-27T00:00:00.5+00:00",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "01a21c52-5a4d-715b-b978-b37a95b9c68c", "facets": {
            "errorMessage": facet("1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
                                  message="boom", programmingLanguage="python"),
            "nominalTime": facet("1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet",
                                 nominalStartTime="2026-11-26T18:00:00+00:00"),
            "parent": facet("1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
                            run={"runId": "01a21c52-5a4d-715b-b978-b37a95b9c68d"},
                            job={"namespace": "ns", "name": "dagster_job"}),
        }},
        "job": {"namespace": "commerce-governance", "name": "src_order", "facets": {
            "documentation": facet("1-1-0/DocumentationJobFacet.json#/$defs/"
                                   "DocumentationJobFacet", description="Extracts orders."),
        }},
        "inputs": [{"namespace": "file", "name": "/staging/orders", "facets": {
            "schema": facet("1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
                            fields=[{"name": "id", "type": "BIGINT"}]),
        }, "inputFacets": {
            "dataQualityAssertions": facet(
                "1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/"
                "DataQualityAssertionsDatasetFacet",
                assertions=[{"assertion": "not_null", "success": False, "column": "id"}]),
        }}],
        "outputs": [],
    }


def broken(path: str, value=None, *, delete: bool = False) -> dict:
    """`good_event()` with the value at dotted `path` replaced (or deleted)."""
    return edited(good_event(), path, value, delete=delete)


def test_a_conforming_event_validates_with_each_facet_checked_on_its_own():
    checked = validate_event(good_event())
    assert len(checked) == 6 and "run: errorMessage" in checked


@pytest.mark.parametrize("event", [
    broken("run.runId", "not-a-uuid"),
    broken("eventTime", "yesterday at noon"),
    broken("eventType", "FINISHED"),
    broken("producer", delete=True),
    broken("run.facets.errorMessage.programmingLanguage", delete=True),
    broken("run.facets.parent.run.runId", "run-42"),
    broken("inputs.0.inputFacets.dataQualityAssertions.assertions.0.success", "no"),
    broken("inputs.0.facets.schema.fields.0.name", delete=True),
], ids=["run id", "event time", "event type", "producer", "facet field", "parent run id",
        "assertion success", "schema field name"])
def test_validate_event_rejects_what_the_spec_forbids(event):
    with pytest.raises(jsonschema.ValidationError):
        validate_event(event)


def test_a_facet_under_the_wrong_key_or_an_unknown_version_is_rejected():
    renamed = good_event()
    renamed["run"]["facets"]["error"] = renamed["run"]["facets"].pop("errorMessage")
    with pytest.raises(AssertionError, match="not the key"):
        validate_event(renamed)
    unknown = broken("run.facets.errorMessage._schemaURL",
                     f"{FACETS}/9-9-9/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet")
    with pytest.raises(referencing.exceptions.NoSuchResource):
        validate_event(unknown)
