"""The Marquez stand-in (tests/lineage/marquez.py) answers and stores as Marquez 0.51.1 does.

Every rule is exercised over loopback HTTP and read back through the Marquez-shaped endpoints, so
the same assertions could run against the real server (tests/lineage/test_marquez_server.py).
Real parts: the stand-in's HTTP server, the official JSON Schemas. Expected UUIDs were computed
with Java's `java.util.UUID`, as Marquez derives them.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.lineage.marquez import PATH, Rejected, check, running_marquez
from tests.lineage.spec import edited, validate_event

FACETS = "https://openlineage.io/spec/facets"
PRODUCER = "https://example.com/producer"
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/"
NS = "commerce-governance"
RUN, PARENT_RUN = "01a21c52-5a4d-715b-b978-b37a95b9c68c", "01a21c52-5a4d-715b-b978-b37a95b9c68d"
DB = "duckdb:///tmp/warehouse.duckdb"
segment = partial(quote, safe="")  # one path segment, `/` and `:` included


def facet(schema: str, **fields: Any) -> dict:
    name = schema.rsplit("/", 1)[-1].removesuffix(".json")
    return {"_producer": PRODUCER, "_schemaURL": f"{FACETS}/{schema}.json#/$defs/{name}",
            **fields}


def dataset(name: str, namespace: str = DB, fields: list | None = None,
            description: str | None = None, **facets: Any) -> dict:
    if fields is not None:
        facets["schema"] = facet("1-2-0/SchemaDatasetFacet", fields=[
            {"name": n, "type": t} if t else {"name": n} for n, t in fields])
    if description is not None:
        facets["documentation"] = facet("1-1-0/DocumentationDatasetFacet",
                                        description=description)
    return {"namespace": namespace, "name": name, "facets": facets}


def event(kind: str | None = "START", job: str = "job", run: str = RUN, inputs: list = (),
          outputs: list = (), namespace: str = NS, **run_facets: Any) -> dict:
    built = {"eventTime": "2026-11-27T00:00:00.5+00:00", "producer": PRODUCER,
             "schemaURL": f"{SPEC}RunEvent", "run": {"runId": run, "facets": run_facets},
             "job": {"namespace": namespace, "name": job}, "inputs": list(inputs),
             "outputs": list(outputs)}
    if kind is not None:
        built["eventType"] = kind
    return built


def full_event() -> dict:
    """A valid event with every facet Marquez models, each with what it requires."""
    source = dataset("/staging/orders", "file", [("id", "BIGINT")], "Staged orders.",
                     symlinks=facet("1-0-1/SymlinksDatasetFacet", identifiers=[
                         {"namespace": "s3://b", "name": "o", "type": "TABLE"}]))
    source["inputFacets"] = {"dataQualityAssertions": facet(
        "1-1-0/DataQualityAssertionsDatasetFacet",
        assertions=[{"assertion": "not_null", "success": True, "column": "id"}])}
    target = dataset("warehouse.raw.orders", fields=[("id", "BIGINT")], columnLineage=facet(
        "1-2-0/ColumnLineageDatasetFacet", fields={"id": {"inputFields": [
            {"namespace": "file", "name": "/staging/orders", "field": "id"}]}}))
    built = event("COMPLETE", "src_order", inputs=[source], outputs=[target],
                  nominalTime=facet("1-0-1/NominalTimeRunFacet",
                                    nominalStartTime="2026-11-26T18:00:00+00:00"),
                  parent=facet("1-2-0/ParentRunFacet", run={"runId": PARENT_RUN},
                               job={"namespace": NS, "name": "dagster_job"}))
    built["job"]["facets"] = {
        "documentation": facet("1-1-0/DocumentationJobFacet", description="Extracts orders."),
        "sql": facet("1-1-0/SQLJobFacet", query="select 1"),
        "jobType": facet("2-0-4/JobTypeJobFacet", processingType="BATCH", integration="DAGSTER",
                         jobType="ASSET")}
    return built


def changed(path: str, value: Any = None, *, delete: bool = False) -> dict:
    """`full_event()` with the value at dotted `path` replaced (or deleted)."""
    return edited(full_event(), path, value, delete=delete)


def call(marquez, method: str, path: str, body: Any = None, raw: bytes | None = None
         ) -> tuple[int, Any]:
    answer = requests.request(method, f"{marquez.url}{path}", json=body, data=raw, timeout=5,
                              headers={"Content-Type": "application/json"})
    return answer.status_code, answer.json() if answer.content else None


def send(marquez, *events: dict) -> None:
    for sent in events:
        status, answer = call(marquez, "POST", PATH, sent)
        assert status == 201, answer


def get(marquez, kind: str, name: str, namespace: str | None = None) -> dict:
    """One dataset or job (`kind` "datasets" or "jobs"), which must be there."""
    namespace = namespace or (DB if kind == "datasets" else NS)
    status, answer = call(marquez, "GET", f"/api/v1/namespaces/{segment(namespace)}/{kind}/"
                                          f"{segment(name)}")
    assert status == 200, answer
    return answer


DATASET_EVENT = {"eventTime": "2026-11-27T00:00:00Z", "producer": PRODUCER,
                 "schemaURL": f"{SPEC}DatasetEvent", "dataset": {"namespace": "file", "name": "/x"}}
JOB_EVENT = {"eventTime": "2026-11-27T00:00:00Z", "producer": PRODUCER,
             "schemaURL": f"{SPEC}JobEvent", "job": {"namespace": NS, "name": "static"}}
ACCEPTED = [
    full_event(), DATASET_EVENT, JOB_EVENT,  # the kind comes from schemaURL: no run or job needed
    changed("run.runId", "run-42"),  # Marquez derives a UUID
    changed("eventTime", "2026-11-27T00:00:00"),  # no offset: read as UTC
    changed("eventType", delete=True), changed("eventType", "FINISHED"),
    changed("job.namespace", "not a namespace!"),  # rewritten, not refused
    changed("run.facets.errorMessage", {"message": "no _producer: a facet Marquez does not model"}),
    # java.net.URI takes a non-ASCII letter and %-escapes as the source's connection URL
    changed("inputs.0.facets.dataSource", facet("1-0-1/DatasourceDatasetFacet", name="file",
                                                uri="file:///tmp/caf%C3%A9/../café/x")),
]
REQUIRED = [  # each deleted: 422
    "eventTime", "producer", "run.runId", "job.name", "job.namespace", "inputs.0.name",
    "outputs.0.namespace", "run.facets.nominalTime.nominalStartTime", "run.facets.parent.job.name",
    "run.facets.parent.run.runId", "job.facets.documentation.description", "job.facets.sql.query",
    "job.facets.jobType.integration", "job.facets.jobType.processingType",
    "inputs.0.facets.schema._producer", "inputs.0.facets.documentation._schemaURL",
    "inputs.0.facets.schema.fields.0.name", "inputs.0.facets.symlinks.identifiers.0.name",
    "outputs.0.facets.columnLineage.fields.id.inputFields.0.field",
    "outputs.0.facets.columnLineage.fields.id.inputFields",
]
REFUSED = [  # (path, value, status)
    ("eventTime", "yesterday at noon", 400),
    ("inputs.0.facets.schema._producer", "https://example.com/a producer", 400),
    ("inputs.0.namespace", "db ns", 400), ("inputs.0.namespace", "file:///tmp/café", 400),
    ("outputs.0.namespace", "duckdb:///home/~me/x.duckdb", 400),
    ("run.facets", ["not", "an", "object"], 500),
    # measured on the real server: NULL as the source's connection_url fails the whole event
    ("inputs.0.facets.dataSource", facet("1-0-1/DatasourceDatasetFacet", name="file",
                                         uri="file:///tmp/my shop/x"), 500),
]
RAW = [(b"{not json", 500), (b"[1]", 500), (b"{}", 422), (b"", 422)]


def test_the_stand_in_answers_each_ingest_case_as_marquez_does():
    cases = [(sent, 201) for sent in ACCEPTED]
    cases += [(changed(path, delete=True), 422) for path in REQUIRED]
    cases += [(changed(path, value), status) for path, value, status in REFUSED]
    with running_marquez() as marquez:
        answers = [call(marquez, "POST", PATH, sent)[0] for sent, _ in cases]
        raw = [call(marquez, "POST", PATH, raw=body) for body, _ in RAW]
    assert answers == [status for _, status in cases]
    assert [status for status, _ in raw] == [status for _, status in RAW]
    assert raw[0][1]["code"] == 400  # what Marquez's JSON exception mapper writes
    assert "eventTime must not be null" in raw[2][1]["errors"]
    assert marquez.accepted == ACCEPTED  # verbatim, in order
    assert [status for status, _ in marquez.rejected] == (
        [status for _, status in cases[len(ACCEPTED):]] + [status for _, status in RAW])


def test_the_full_event_conforms_and_check_raises_without_a_server():
    assert {"job: jobType", "run: parent", f"output {DB}/warehouse.raw.orders: columnLineage"
            } <= set(validate_event(full_event()))
    check(full_event())
    with pytest.raises(Rejected) as refused:
        check(changed("job.facets.jobType.jobType", delete=True))
    assert refused.value.status == 422 and "jobType.jobType" in str(refused.value)


def test_lenient_inputs_are_stored_as_marquez_rewrites_them():
    """A non-UUID run id under the UUID Java derives; a bad job namespace with `_` for each bad
    character (`;` and `=` too, which a dataset namespace may hold)."""
    with running_marquez() as marquez:
        send(marquez, event("START", run="run-42", namespace="my ns;x=1 é~",
                            outputs=[dataset("t", "file;a=1")]))
        run = get(marquez, "jobs", "job", "my_ns_x_1___")["latestRun"]
        as_sent = call(marquez, "GET", f"/api/v1/namespaces/{segment('my ns;x=1 é~')}/jobs/job")
        assert get(marquez, "datasets", "t", "file;a=1")["name"] == "t"
        listed = {n["name"] for n in call(marquez, "GET", "/api/v1/namespaces")[1]["namespaces"]}
    assert (run["id"], run["state"]) == ("fe08e1df-b8a8-3050-a744-f5850fa32d6c", "RUNNING")
    assert as_sent[0] == 404
    # the dataset's own row is filed under the rewritten namespace too, as the real server did
    assert listed == {"default", "my_ns_x_1___", "file;a=1", "file_a_1"}


def test_the_run_state_follows_each_event_that_has_a_type():
    """START/RUNNING/OTHER/unknown -> RUNNING, COMPLETE/FAIL/ABORT; none leaves the state."""
    sequence = [("START", "RUNNING"), ("complete", "COMPLETED"), (None, "COMPLETED"),
                ("OTHER", "RUNNING"), ("FAIL", "FAILED"), ("FINISHED", "RUNNING"),
                ("ABORT", "ABORTED")]
    seen = []
    with running_marquez() as marquez:
        for kind, _ in sequence:
            send(marquez, event(kind))
            seen.append(get(marquez, "jobs", "job")["latestRun"]["state"])
        by_id = call(marquez, "GET", f"/api/v1/jobs/runs/{RUN}")
        send(marquez, event(None, run=PARENT_RUN, job="untyped"))
        untyped = get(marquez, "jobs", "untyped")["latestRun"]["state"]
    assert seen == [state for _, state in sequence]
    assert (by_id[0], by_id[1]["id"], by_id[1]["state"], untyped) == (
        200, RUN, "ABORTED", "RUNNING")


def test_description_is_the_last_events_and_a_field_is_its_name_and_type():
    """A START's output is no current version yet; its COMPLETE makes it one, to which a reader
    adds its fields: `bigint`, no type and `BIGINT` are three fields."""
    with running_marquez() as marquez:
        started = event("START", outputs=[dataset("t", fields=[("id", "BIGINT")],
                                                  description="First.")])
        send(marquez, started)
        shown = [get(marquez, "datasets", "t")]
        send(marquez, {**copy.deepcopy(started), "eventType": "COMPLETE"})
        shown.append(get(marquez, "datasets", "t"))
        send(marquez, event("COMPLETE", "reader", PARENT_RUN, inputs=[dataset("t", fields=[
            ("id", "bigint"), ("id", None), ("id", "BIGINT")], description="Second.")]))
        shown.append(get(marquez, "datasets", "t"))
        send(marquez, event("COMPLETE", "reader", PARENT_RUN, inputs=[dataset("t")]))
        shown.append(get(marquez, "datasets", "t"))
    assert [d["description"] for d in shown] == ["First.", "First.", "Second.", None]
    assert [[(f["name"], f["type"]) for f in d["fields"]] for d in shown] == [
        [], [("id", "BIGINT")], *[[("id", "BIGINT"), ("id", "bigint"), ("id", None)]] * 2]


def test_the_tags_facet_is_a_raw_facet_and_tags_come_from_the_tag_api():
    tags = facet("1-0-0/TagsDatasetFacet", tags=[{"key": "pii", "value": "email",
                                                  "field": "email"}])
    name, namespace = "stores/abc/v3/customers", "https://api.example.com"  # `/` in a segment
    path = f"/api/v1/namespaces/{segment(namespace)}/datasets/{segment(name)}"
    with running_marquez() as marquez:
        send(marquez, event("COMPLETE", outputs=[dataset(name, namespace, [
            ("email", "VARCHAR"), ("email", "varchar"), ("id", "BIGINT")], tags=tags)]))
        shown = get(marquez, "datasets", name, namespace)
        put = [call(marquez, "PUT", "/api/v1/tags/pii%3Aemail", body)
               for body in ({"description": "PII"}, None)]
        missing = [call(marquez, "POST", f"{where}/tags/pii%3Aemail")[0] for where in (
            f"/api/v1/namespaces/{segment(namespace)}/datasets/nope",
            f"/api/v1/namespaces/nowhere/datasets/{segment(name)}", f"{path}/fields/phone")]
        answers = [call(marquez, "POST", f"{path}{where}/tags/pii%3Aemail")
                   for where in ("", "", "/fields/email", "/fields/email")]
    assert shown["facets"]["tags"] == tags and shown["tags"] == []
    assert all(f["tags"] == [] for f in shown["fields"])
    assert put == [(200, {"name": "pii:email", "description": "PII"})] * 2  # kept, no body
    assert missing == [404, 404, 404]
    assert [status for status, _ in answers] == [200] * 4
    assert answers[-1][1]["tags"] == ["pii:email"]  # a set: tagging twice is once
    assert [(f["name"], f["type"], f["tags"]) for f in answers[-1][1]["fields"]] == [
        ("email", "VARCHAR", ["PII:EMAIL"]), ("email", "varchar", ["PII:EMAIL"]),
        ("id", "BIGINT", [])]  # every field of that name; Marquez upper-cases a field tag


def lineage(marquez, node: str, depth: int = 20) -> tuple[set, set]:
    status, answer = call(marquez, "GET", f"/api/v1/lineage?nodeId={segment(node)}&depth={depth}")
    assert status == 200, answer
    return {n["id"] for n in answer["graph"]}, {
        (e["origin"], e["destination"]) for n in answer["graph"] for e in n["inEdges"]
        + n["outEdges"]}


def test_the_graph_is_built_from_each_jobs_current_version():
    """A START with no outputs clears them; one with outputs does not yet replace them; the end
    of a run, COMPLETE or FAIL, makes its datasets current."""
    job, table = f"job:{NS}:job", f"dataset:{DB}:t"
    second, third = (f"01a21c52-5a4d-715b-b978-b37a95b9c6{n}" for n in ("01", "02"))
    with running_marquez() as marquez:
        send(marquez, event("START", outputs=[dataset("t")]))
        started = lineage(marquez, table)
        send(marquez, event("COMPLETE", outputs=[dataset("t")]))
        completed = lineage(marquez, table)
        send(marquez, event("START", run=second))
        cleared = (lineage(marquez, table), get(marquez, "jobs", "job")["outputs"])
        send(marquez, event("FAIL", run=second, outputs=[dataset("t")]))
        failed = lineage(marquez, table)
        send(marquez, event("START", run=third, outputs=[dataset("u")]))
        pending = get(marquez, "jobs", "job")["outputs"]
    assert started == ({table}, set())  # Marquez's orphan graph
    assert completed == failed == ({job, table}, {(job, table)})
    assert cleared == (({table}, set()), [])
    assert pending == [{"namespace": DB, "name": "t"}]


def test_lineage_reaches_jobs_level_by_level_and_parses_uri_namespaces():
    pg = "postgres://localhost:5432"
    src, raw, mart = f"dataset:{pg}:wise.public.x", f"dataset:{DB}:raw.x", f"dataset:{DB}:mart.x"
    extract, model = f"job:{NS}:extract", f"job:{NS}:model"
    with running_marquez() as marquez:
        send(marquez, event("COMPLETE", "extract", inputs=[dataset("wise.public.x", pg)],
                            outputs=[dataset("raw.x")]),
             event("COMPLETE", "model", PARENT_RUN, [dataset("raw.x")], [dataset("mart.x")]))
        near, far = lineage(marquez, src, depth=0), lineage(marquez, src, depth=1)
        unknown = call(marquez, "GET", f"/api/v1/lineage?nodeId={segment(f'dataset:{DB}:no')}")
    assert near == ({src, extract, raw}, {(src, extract), (extract, raw)})
    assert far == ({src, extract, raw, model, mart},
                   {(src, extract), (extract, raw), (raw, model), (model, mart)})
    assert unknown[0] == 404


def child(kind: str, name: str = "src_order", parent_namespace: str = NS,
          parent: str = PARENT_RUN) -> dict:
    """An event of a run whose parent run facet names the Dagster run's job."""
    return event(kind, name, outputs=[dataset("t", fields=[("id", "BIGINT")])],
                 parent=facet("1-2-0/ParentRunFacet", run={"runId": parent},
                              job={"namespace": parent_namespace, "name": "dagster_job"}))


def test_a_child_job_is_named_under_its_parent_whose_run_only_its_own_events_move():
    """The child is `<parent>.<child>` (a name so prefixed is not prefixed again); the parent run
    stays RUNNING through the child's COMPLETE, until the parent's own COMPLETE."""
    with running_marquez() as marquez:
        send(marquez, child("START"), child("COMPLETE", "dagster_job.src_order"))
        named = get(marquez, "jobs", "dagster_job.src_order")
        while_children = get(marquez, "jobs", "dagster_job")["latestRun"]
        send(marquez, event("COMPLETE", "dagster_job", run=PARENT_RUN))
        after_own = get(marquez, "jobs", "dagster_job")["latestRun"]
        jobs = call(marquez, "GET", f"/api/v1/namespaces/{NS}/jobs")[1]["jobs"]
    assert (named["simpleName"], named["parentJobName"]) == ("src_order", "dagster_job")
    assert named["latestRun"]["state"] == "COMPLETED"
    assert sorted(job["name"] for job in jobs) == ["dagster_job", "dagster_job.src_order"]
    assert (while_children["id"], while_children["state"]) == (PARENT_RUN, "RUNNING")
    assert (after_own["id"], after_own["state"]) == (PARENT_RUN, "COMPLETED")


def test_the_parent_job_is_made_in_the_childs_namespace():
    """Its run id, not a UUID, derived from the facet's namespace, job and id (Utils.toUuid)."""
    with running_marquez() as marquez:
        send(marquez, child("START", parent_namespace="elsewhere", parent="run-7"))
        here = call(marquez, "GET", f"/api/v1/namespaces/{NS}/jobs/dagster_job")
        elsewhere = call(marquez, "GET", "/api/v1/namespaces/elsewhere/jobs/dagster_job")
    assert (here[0], elsewhere[0]) == (200, 404)
    assert (here[1]["latestRun"]["id"], here[1]["latestRun"]["state"]) == (
        "2e508ac4-d47c-35d2-bc8c-6a207aecb1f2", "RUNNING")


def test_health_comes_from_the_latest_assertions_of_a_dataset_read():
    """Any failed assertion, whatever its severity, makes the dataset UNHEALTHY."""
    health = []
    with running_marquez() as marquez:
        for run, results in ((RUN, ()), (PARENT_RUN, (True, True)), (RUN, (True, False))):
            staged = dataset("staged")
            staged["inputFacets"] = {"dataQualityAssertions": facet(
                "1-1-0/DataQualityAssertionsDatasetFacet", assertions=[
                    {"assertion": "rule", "success": ok, "severity": "warn"} for ok in results])
            } if results else {}
            send(marquez, event("COMPLETE", run=run, inputs=[staged]))
            health.append(get(marquez, "datasets", "staged")["health"])
    assert health == [None, "HEALTHY", "UNHEALTHY"]
