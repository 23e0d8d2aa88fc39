"""What the Marquez stand-in keeps of accepted events, and the JSON Marquez 0.51.1 shows of it.

A small model of what Marquez's `OpenLineageDao` writes (read from its source, `api/src/main/
java/marquez/db/`), for tests to see what a steward sees:
- Jobs live in their namespace rewritten (each character outside `[a-zA-Z0-9:/_.@+-]` becomes
  `_`). With a `parent` run facet the child is `<parent>.<child>`; an unknown parent run is made,
  with its job in the child's namespace, in the state of that child event, which later child
  events leave: only the parent's own events move it.
- A run's state follows each event with an `eventType` (COMPLETE -> COMPLETED, FAIL -> FAILED,
  ABORT -> ABORTED, any other -> RUNNING); an event without one leaves it (a new run: RUNNING).
- A job's current version, the lineage graph's source: an event with no inputs (outputs) clears
  them; a COMPLETE, FAIL or ABORT makes its run's datasets, over all its events, the current ones.
- Datasets: `description` is that of the last event naming the dataset (none clears it); a field
  is (name, type), so `BIGINT` and `bigint` are two. An output makes a version per (run, schema),
  current once its run COMPLETEs; an input adds its fields and facets to the current version. GET
  shows the current version's fields, its dataset and input facets (not output facets) and a
  stand-in key `health`: what Marquez's UI makes of `dataQualityAssertions`. Tags: marquez.py.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

JOB_NAMESPACE_BAD = re.compile(r"[^a-z:/A-Z0-9\-_.@+]")  # OpenLineageDao.formatNamespaceName
STATES = {"COMPLETE": "COMPLETED", "FAIL": "FAILED", "ABORT": "ABORTED"}
NAMESPACE_URL = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
Key = tuple[str, str]


def job_namespace(namespace: str) -> str:
    return JOB_NAMESPACE_BAD.sub("_", namespace)


def run_uuid(run_id: str, *name: str) -> str:
    """The id if a UUID, else derived: from `name` parts as a parent run facet's id is
    (Utils.toUuid), or as Java's `UUID.nameUUIDFromBytes(runId)` (an event's own run)."""
    try:
        return str(uuid.UUID(run_id))
    except ValueError:
        if name:
            return str(uuid.uuid3(NAMESPACE_URL, ".".join(name)))
        return str(uuid.UUID(bytes=hashlib.md5(run_id.encode()).digest(), version=3))


@dataclass
class Field:
    name: str
    type: str | None
    description: str | None = None
    tags: set[str] = field(default_factory=set)


@dataclass
class Version:
    id: str
    fields: list[tuple[str, str | None]] = field(default_factory=list)
    facets: dict[str, Any] = field(default_factory=dict)


@dataclass
class Dataset:
    namespace: str
    name: str
    description: str | None = None
    fields: dict[tuple[str, str | None], Field] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    versions: dict[tuple, Version] = field(default_factory=dict)
    current: Version | None = None


@dataclass
class Run:
    id: str
    job: Key
    state: str = "RUNNING"
    facets: dict[str, Any] = field(default_factory=dict)
    inputs: dict[Key, None] = field(default_factory=dict)  # dicts as ordered sets
    outputs: dict[Key, None] = field(default_factory=dict)
    written: list[tuple[Key, Version]] = field(default_factory=list)


@dataclass
class Job:
    namespace: str
    name: str
    simple_name: str
    parent: str | None = None
    description: str | None = None
    facets: dict[str, Any] = field(default_factory=dict)
    inputs: list[Key] = field(default_factory=list)  # the current version's
    outputs: list[Key] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)


class Store:
    """Jobs, runs, datasets and tags of the accepted events; `ingest` takes one checked event."""

    def __init__(self) -> None:
        self.jobs: dict[Key, Job] = {}
        self.runs: dict[str, Run] = {}
        self.datasets: dict[Key, Dataset] = {}
        self.tags: dict[str, str | None] = {}
        self.namespaces: set[str] = set()
        self.io_seen: dict[Key, dict[str, Key]] = {}  # dataset -> INPUT/OUTPUT -> last job

    def ingest(self, event: dict, kind: str) -> None:
        if kind == "DatasetEvent":
            dataset, version = self._write(event["dataset"], None)
            self.datasets[dataset].current = version
        elif kind == "JobEvent":
            job = self._job(event["job"], job_namespace(event["job"]["namespace"]), None)
            job.inputs = [self._read(d, None) for d in event.get("inputs") or []]
            job.outputs = [self._write(d, None)[0] for d in event.get("outputs") or []]
            self._seen(job)
        else:
            self._run_event(event)

    def _run_event(self, event: dict) -> None:
        namespace = job_namespace(event["job"]["namespace"])
        facets = event["run"].get("facets") or {}
        kind = str(event.get("eventType") or "").upper() or None
        state = STATES.get(kind, "RUNNING") if kind else None
        parent = facets.get("parent") or facets.get("parentRun")
        job = self._job(event["job"], namespace, parent and self._parent(
            parent, namespace, event["job"]["name"], state))
        run_id = run_uuid(str(event["run"]["runId"]))
        if run_id not in self.runs:
            self.runs[run_id] = Run(run_id, (job.namespace, job.name))
            job.runs.append(run_id)
        run = self.runs[run_id]
        run.state = state or run.state
        run.facets.update(facets)
        inputs = [self._read(d, run) for d in event.get("inputs") or []]
        outputs = [self._write(d, run) for d in event.get("outputs") or []]
        run.inputs.update(dict.fromkeys(inputs))
        run.outputs.update(dict.fromkeys(key for key, _ in outputs))
        run.written += outputs
        job.inputs, job.outputs = job.inputs if inputs else [], job.outputs if outputs else []
        if kind in STATES:
            job.inputs, job.outputs = list(run.inputs), list(run.outputs)
            self._seen(job)
        if kind == "COMPLETE":
            for key, version in run.written:
                self.datasets[key].current = version

    def _parent(self, facet: dict, namespace: str, child: str, state: str | None) -> Job:
        """The parent job as `OpenLineageDao.findParentJobRow` finds or makes it."""
        facet_ns, facet_name = facet["job"]["namespace"], facet["job"]["name"]
        dag = facet_name.rsplit(".", 1)[0]  # Utils.parseParentJobName
        name = dag if facet_name == child else facet_name
        run_id = run_uuid(str(facet["run"]["runId"]), facet_ns, dag, str(facet["run"]["runId"]))
        known = self.runs.get(run_id)
        if known is not None and known.job == (facet_ns, name):
            return self.jobs[known.job]
        if known is not None:  # a run id another job holds: Marquez derives a new one
            run_id = str(uuid.uuid3(NAMESPACE_URL, f"{facet_ns}.{name}.{run_id}"))
        parent = self._job({"name": name}, namespace, None, own=False)
        run = self.runs.setdefault(run_id, Run(run_id, (parent.namespace, parent.name)))
        parent.runs += [] if run_id in parent.runs else [run_id]
        run.state = state or run.state
        return parent

    def _job(self, job: dict, namespace: str, parent: Job | None, own: bool = True) -> Job:
        simple = job["name"]
        if parent is not None and simple.startswith(parent.name + "."):
            simple = simple[len(parent.name) + 1:]
        name = f"{parent.name}.{simple}" if parent is not None else simple
        stored = self.jobs.setdefault((namespace, name), Job(namespace, name, simple))
        self.namespaces.add(namespace)
        stored.parent = stored.parent or (parent and parent.name)
        if own:  # the description and facets of the job's last own event
            facets = job.get("facets") or {}
            stored.description = (facets.get("documentation") or {}).get("description")
            stored.facets.update(facets)
        return stored

    def _seen(self, job: Job) -> None:
        for role, keys in (("INPUT", job.inputs), ("OUTPUT", job.outputs)):
            for key in keys:
                self.io_seen.setdefault(key, {})[role] = (job.namespace, job.name)

    def job_for(self, key: Key) -> Key | None:
        """The job Marquez starts a dataset's lineage from: its last writer, else reader."""
        seen = self.io_seen.get(key, {})
        return seen.get("OUTPUT") or seen.get("INPUT")

    def reached(self, start: Key, depth: int) -> list[Key]:
        """The jobs of Marquez's lineage query from `start`: each of `depth` levels adds the jobs
        whose current inputs or outputs share a dataset with the level before (either way)."""
        reached, level = [start], [start]
        for _ in range(depth):
            near = {key for job in level for key in self.jobs[job].inputs + self.jobs[job].outputs}
            level = [key for key, job in self.jobs.items()
                     if key not in reached and near & {*job.inputs, *job.outputs}]
            reached += level
        return reached

    def _version(self, given: dict, run: Run | None, current: bool) -> tuple[Dataset, Version]:
        """The dataset, upserted, and the version the event's facets and fields go to."""
        dataset = self.datasets.setdefault(key := (given["namespace"], given["name"]),
                                           Dataset(*key))
        self.namespaces.update((key[0], job_namespace(key[0])))
        facets = given.get("facets") or {}
        dataset.description = (facets.get("documentation") or {}).get("description")
        columns = (facets.get("schema") or {}).get("fields")
        schema = None if columns is None else tuple((c["name"], c.get("type")) for c in columns)
        version = dataset.current if current else None
        if version is None:
            version_key = (run and run.id, schema)
            version = dataset.versions.setdefault(version_key, Version(str(uuid.uuid4())))
        for column in columns or []:
            column_key = (column["name"], column.get("type"))
            stored = dataset.fields.setdefault(column_key, Field(*column_key))
            stored.description = column.get("description")  # overwritten, even by none
            version.fields += [] if column_key in version.fields else [column_key]
        version.facets.update(facets)
        return dataset, version

    def _read(self, given: dict, run: Run | None) -> Key:
        dataset, version = self._version(given, run, current=True)
        dataset.current = version  # a first read makes the dataset's first version
        version.facets.update(given.get("inputFacets") or {})
        return dataset.namespace, dataset.name

    def _write(self, given: dict, run: Run | None) -> tuple[Key, Version]:
        dataset, version = self._version(given, run, current=False)
        return (dataset.namespace, dataset.name), version


def health(facets: dict) -> str | None:
    """HEALTHY / UNHEALTHY as Marquez's UI shows a dataset's latest assertions (severity aside)."""
    assertions = (facets.get("dataQualityAssertions") or {}).get("assertions") or []
    if not assertions:
        return None
    return "UNHEALTHY" if any(not a.get("success") for a in assertions) else "HEALTHY"


def dataset_json(dataset: Dataset) -> dict:
    version = dataset.current or Version("")
    fields = [dataset.fields[key] for key in version.fields]
    return {"id": {"namespace": dataset.namespace, "name": dataset.name}, "type": "DB_TABLE",
            "name": dataset.name, "physicalName": dataset.name, "namespace": dataset.namespace,
            "sourceName": "default", "description": dataset.description, "fields": [
                {"name": f.name, "type": f.type, "tags": sorted(f.tags),
                 "description": f.description} for f in fields],
            "tags": sorted(dataset.tags), "currentVersion": version.id or None,
            "facets": version.facets, "deleted": False, "health": health(version.facets)}


def job_json(store: Store, job: Job, one: bool) -> dict:
    """A job as GET /jobs/{job} (`one`: its current version's datasets, if any) or GET /jobs (its
    latest run's) shows it."""
    run = store.runs[job.runs[-1]] if job.runs else None
    inputs = job.inputs if (one and job.inputs) or run is None else list(run.inputs)
    outputs = job.outputs if (one and job.outputs) or run is None else list(run.outputs)
    return {"id": {"namespace": job.namespace, "name": job.name}, "type": "BATCH",
            "name": job.name, "simpleName": job.simple_name, "parentJobName": job.parent,
            "namespace": job.namespace, "description": job.description, "facets": job.facets,
            "inputs": [{"namespace": ns, "name": name} for ns, name in inputs],
            "outputs": [{"namespace": ns, "name": name} for ns, name in outputs],
            "latestRun": run_json(run) if run else None}


def run_json(run: Run) -> dict:
    return {"id": run.id, "state": run.state, "namespaceName": run.job[0], "jobName": run.job[1],
            "nominalStartTime": (run.facets.get("nominalTime") or {}).get("nominalStartTime"),
            "facets": run.facets}


def node_parts(node_id: str, count: int) -> list[str]:
    """NodeId.parts: split on `:`; where that gives too many, on each `:` not followed by `//` or
    a digit (a URI's scheme or port), from the left."""
    parts = re.split(r"[:#]", node_id)
    if len(parts) < count:
        raise ValueError(node_id)
    return parts if len(parts) == count else re.split(r":(?!//|\d)", node_id, maxsplit=count - 1)


def lineage_json(store: Store, kind: str, key: Key, depth: int) -> dict:
    """GET /lineage of a known job or dataset: the jobs reached and all their current datasets."""
    start = key if kind == "job" else store.job_for(key)
    jobs = store.reached(start, depth) if start else []
    datasets = list(dict.fromkeys(d for j in jobs for d in store.jobs[j].inputs
                                  + store.jobs[j].outputs))
    if kind == "dataset" and key not in datasets:  # Marquez's "orphan" graph
        jobs, datasets = [], [key]
    edges = [(f"dataset:{d[0]}:{d[1]}", f"job:{j[0]}:{j[1]}") for j in jobs
             for d in store.jobs[j].inputs]
    edges += [(f"job:{j[0]}:{j[1]}", f"dataset:{d[0]}:{d[1]}") for j in jobs
              for d in store.jobs[j].outputs]
    nodes = [(f"job:{j[0]}:{j[1]}", "JOB", job_json(store, store.jobs[j], True)) for j in jobs]
    nodes += [(f"dataset:{d[0]}:{d[1]}", "DATASET", dataset_json(store.datasets[d]))
              for d in datasets]
    return {"graph": [{"id": node, "type": kind, "data": data,
                       "inEdges": [{"origin": o, "destination": d} for o, d in edges if d == node],
                       "outEdges": [{"origin": o, "destination": d} for o, d in edges
                                    if o == node]}
                      for node, kind, data in sorted(nodes, key=lambda n: n[0])]}


__all__ = ["Store", "dataset_json", "job_json", "job_namespace", "lineage_json", "node_parts",
           "run_json", "run_uuid"]
