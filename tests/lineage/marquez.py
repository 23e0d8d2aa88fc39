"""A stand-in for Marquez 0.51.1's API on loopback (shared test helper; the real Marquez is run
by tests/lineage/test_marquez_server.py).

Its rules are those of `tests/lineage/reference/openlineage-marquez.md` ("Marquez ... as its own
code behaves"), read again in Marquez's source (`api/src/main/java/marquez/`, tag 0.51.1), which
wins where the page says less, and one measurement (a body that is no JSON gets 500, not 400):
- `POST /api/v1/lineage`: 201; 500 for a body that is no JSON or no event (Marquez's JSON
  exception mapper, answering `{"code": 400, ...}`); 400 for a date-time, or a modelled facet's
  `_producer`/`_schemaURL`, it cannot parse; 422 (`{"errors": [...]}`) for an empty body and each
  missing `eventTime`, `producer`, `run.runId`, job or dataset `namespace`/`name`, or field a facet
  Marquez models requires (LineageEvent.java); 400 for a dataset namespace outside its pattern;
  500 for a `dataSource.uri` java.net.URI cannot parse (a space: measured on the real server).
- Lenient as Marquez: any `run.runId`, `eventType` or job namespace (rewritten), a date-time
  without offset (UTC here), facets it does not model. The kind is the `schemaURL` tail.
Accepted events are kept verbatim in `.accepted`, refusals as (status, reason) in `.rejected`, and
what Marquez stores in `.store` (marquez_store.py), shown by Marquez-shaped endpoints (`_route`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.lineage import marquez_store as shown
from tests.lineage.marquez_store import Store

PATH = "/api/v1/lineage"
# marquez.common.models.NamespaceName: letters, digits and _ - : ; = / . @ +
NAMESPACE = re.compile(r"^[a-zA-Z:;=/0-9_\-.@+]{1,1024}$")
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d(:\d\d(\.\d{1,9})?)?([Zz]|[+-]\d\d:\d\d)?$")
# What java.net.URI refuses: spaces and unsafe characters, a bad %-escape, an empty scheme part
URI_BAD = re.compile(r"[\s<>\"{}|\\^`]|%(?![0-9A-Fa-f]{2})|^:|^[A-Za-z][\w+.-]*:$")
# The facets LineageEvent.java models, with the fields it requires besides _producer and
# _schemaURL; other facets are a map Marquez does not check.
RUN_FACETS = {"nominalTime": ("nominalStartTime",),
              "parent": ("run.runId", "job.namespace", "job.name")}
RUN_FACETS["parentRun"] = RUN_FACETS["parent"]  # its @JsonAlias
JOB_FACETS = {"documentation": ("description",), "sourceCodeLocation": (), "sql": ("query",),
              "jobType": ("processingType", "integration", "jobType")}
DATASET_FACETS = {"documentation": ("description",), "schema": (), "lifecycleStateChange": (),
                  "dataSource": (), "columnLineage": (), "symlinks": ()}
# What each item of a modelled facet's list (or map) needs: (key, needs, the items' own items)
ITEMS = {"schema": [("fields", ("name",), [])],
         "symlinks": [("identifiers", ("namespace", "name"), [])],
         "columnLineage": [("fields", ("inputFields",),
                            [("inputFields", ("namespace", "name", "field"), [])])]}
DEPTH = 20  # Marquez's default lineage depth


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def kind_of(event: dict) -> str:
    kind = str(event.get("schemaURL") or "").rsplit("/", 1)[-1]
    return kind if kind in ("DatasetEvent", "JobEvent") else "RunEvent"


def _datasets(event: dict, kind: str) -> list[tuple[str, Any]]:
    if kind == "DatasetEvent":
        return [("dataset", event.get("dataset"))]
    return [(f"{role}[{i}]", dataset) for role in ("inputs", "outputs")
            for i, dataset in enumerate(_list(event.get(role)))]


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _facet_maps(event: dict, kind: str) -> list[tuple[str, Any, dict]]:
    maps = [(f"{where}.facets", _get(dataset, "facets"), DATASET_FACETS)
            for where, dataset in _datasets(event, kind)]
    if kind != "DatasetEvent":
        maps.append(("job.facets", _get(event, "job.facets"), JOB_FACETS))
    if kind == "RunEvent":
        maps.append(("run.facets", _get(event, "run.facets"), RUN_FACETS))
    return maps


def _date_time(text: str) -> bool:
    try:
        return bool(DATE_TIME.match(text) and datetime.fromisoformat(
            text.upper().replace("Z", "+00:00")))
    except ValueError:
        return False


def _unparsable(event: dict, kind: str) -> str | None:
    """A value Jackson fails to parse: a date-time, or a modelled facet's URIs. The page says 400;
    Marquez's JSON exception mapper may make it 500, as for a body that is no JSON (unmeasured)."""
    for path in ("eventTime", "run.facets.nominalTime.nominalStartTime",
                 "run.facets.nominalTime.nominalEndTime"):
        time = _get(event, path)
        if time is not None and not _date_time(str(time)):
            return f"{path} {time!r} is not a date-time"
    for where, facets, known in _facet_maps(event, kind):
        for key in known.keys() & (facets or {}).keys():
            for uri in ("_producer", "_schemaURL"):
                value = _get(facets[key], uri)
                if value is not None and (not isinstance(value, str) or URI_BAD.search(value)):
                    return f"{where}.{key}.{uri} {value!r} is not a URI"
    return None


def _violations(event: dict, kind: str) -> Iterator[str]:
    """Every bean-validation failure, as Dropwizard lists them."""
    required = ["eventTime", "producer"]
    required += {"RunEvent": ["run.runId", "job.namespace", "job.name"], "DatasetEvent": [],
                 "JobEvent": ["job.namespace", "job.name"]}[kind]
    yield from (f"{path} must not be null" for path in required if _get(event, path) is None)
    for where, dataset in _datasets(event, kind):
        yield from (f"{where}.{key} must not be null" for key in ("namespace", "name")
                    if _get(dataset, key) is None)
    for where, facets, known in _facet_maps(event, kind):
        for key in known.keys() & (facets or {}).keys():
            facet, at = facets[key], f"{where}.{key}"
            yield from (f"{at}.{path} must not be null" for path in (
                "_producer", "_schemaURL", *known[key]) if _get(facet, path) is None)
            yield from _items(facet, ITEMS.get(key, []), at)


def _items(value: Any, spec: list, at: str) -> Iterator[str]:
    for key, needs, deeper in spec:
        found = _get(value, key)
        for i, item in found.items() if isinstance(found, dict) else enumerate(_list(found)):
            yield from (f"{at}.{key}[{i}].{need} must not be null" for need in needs
                        if _get(item, need) is None)
            yield from _items(item, deeper, f"{at}.{key}[{i}]")


def check(event: Any) -> None:
    """Raise `Rejected` with Marquez's status for an event (parsed JSON) it would refuse."""
    if event is None:
        raise Rejected(422, "The request body must not be null")
    if not isinstance(event, dict):
        raise Rejected(500, "the body is not a JSON object")
    kind = kind_of(event)
    try:
        unparsable, errors = _unparsable(event, kind), list(_violations(event, kind))
    except (AttributeError, TypeError):  # an object where a list is, or the other way round
        raise Rejected(500, "the body cannot be read as an event") from None
    if unparsable:
        raise Rejected(400, unparsable)
    if errors:
        raise Rejected(422, "; ".join(errors))
    for where, dataset in _datasets(event, kind):
        if not NAMESPACE.match(str(dataset["namespace"])):
            raise Rejected(400, f"{where}.namespace {dataset['namespace']!r} is not a namespace")
    for where, dataset in _datasets(event, kind):
        # Stored as its source's NOT NULL connection_url, NULL when java.net.URI cannot parse
        # it, even prefixed with http:// (OpenLineageDao.getUrlOrNull): the event fails, 500.
        uri = _get(dataset, "facets.dataSource.uri")
        if isinstance(uri, str) and URI_BAD.search(uri) and URI_BAD.search(f"http://{uri}"):
            raise Rejected(500, f"{where}.facets.dataSource.uri {uri!r}: null value in column "
                                '"connection_url" of relation "sources"')


@dataclass
class Marquez:
    url: str
    accepted: list[dict] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    store: Store = field(default_factory=Store)


def _not_found(what: str) -> tuple[int, dict]:
    return 404, {"code": 404, "message": f"{what} not found."}


def _route(state: Marquez, method: str, parts: list[str], query: dict, body: bytes
           ) -> tuple[int, Any]:
    """(status, JSON) of one call, as Marquez answers it: POST lineage, GET lineage?nodeId=&depth=,
    GET namespaces, GET namespaces/{ns}/datasets[/{ds}], GET namespaces/{ns}/jobs[/{job}],
    GET jobs/runs/{id}, PUT tags/{tag},
    POST namespaces/{ns}/datasets/{ds}[/fields/{field}]/tags/{tag}."""
    store = state.store
    match method, parts:
        case "POST", ["lineage"]:
            return _ingest(state, body)
        case "GET", ["lineage"]:
            return _lineage(store, query)
        case "GET", ["namespaces"]:  # `default` is made by Marquez's first migration
            names = sorted(store.namespaces | {"default"})
            return 200, {"namespaces": [{"name": name, "ownerName": "anonymous",
                                         "description": None, "isHidden": False}
                                        for name in names]}
        case "GET", ["namespaces", namespace, "datasets"]:
            found = [shown.dataset_json(d) for (ns, _), d in sorted(store.datasets.items())
                     if ns == namespace]
            return 200, {"totalCount": len(found), "datasets": found}
        case "GET", ["namespaces", namespace, "jobs"]:
            found = [shown.job_json(store, job, False) for (ns, _), job in store.jobs.items()
                     if ns == namespace]
            return 200, {"totalCount": len(found), "jobs": found}
        case "GET", ["namespaces", namespace, "jobs", name]:
            job = store.jobs.get((namespace, name))
            return (200, shown.job_json(store, job, True)) if job else _not_found(f"Job '{name}'")
        case "GET", ["jobs", "runs", run_id]:
            run = store.runs.get(run_id)
            return (200, shown.run_json(run)) if run else _not_found(f"Run '{run_id}'")
        case "PUT", ["tags", tag]:
            description = ((json.loads(body) if body.strip() else None) or {}).get("description")
            if description is not None or tag not in store.tags:  # TagDao.upsert keeps it
                store.tags[tag] = description
            return 200, {"name": tag, "description": store.tags[tag]}
        case "GET" | "POST", ["namespaces", namespace, "datasets", name, *tagging]:
            return _dataset_call(store, method, namespace, name, tagging)
    return 404, {"code": 404, "message": "HTTP 404 Not Found"}


def _lineage(store: Store, query: dict) -> tuple[int, Any]:
    try:
        kind, *key = shown.node_parts(query["nodeId"][0], 3)
    except (KeyError, ValueError):
        return 400, {"code": 400, "message": "nodeId must be dataset:<ns>:<name> or job:..."}
    known = store.jobs if kind == "job" else store.datasets if kind == "dataset" else {}
    if tuple(key) not in known:
        return _not_found(f"Node '{query['nodeId'][0]}'")
    return 200, shown.lineage_json(store, kind, tuple(key), int(query.get("depth", [DEPTH])[0]))


def _dataset_call(store: Store, method: str, namespace: str, name: str, tagging: list[str]
                  ) -> tuple[int, Any]:
    """GET a dataset, or tag it (any tag name: Marquez creates it) or its fields (upper-cased)."""
    dataset = store.datasets.get((namespace, name))
    if namespace not in store.namespaces:
        return _not_found(f"Namespace '{namespace}'")
    if dataset is None:
        return _not_found(f"Dataset '{name}'")
    match method, tagging:
        case "GET", []:
            pass
        case "POST", ["tags", tag]:
            store.tags.setdefault(tag, None)
            dataset.tags.add(tag)
        case "POST", ["fields", column, "tags", tag]:
            columns = [c for c in dataset.fields.values() if c.name == column]
            if not columns:
                return _not_found(f"Field '{column}' of dataset '{name}'")
            store.tags.setdefault(tag.upper(), None)
            for stored in columns:
                stored.tags.add(tag.upper())
        case _:
            return 404, {"code": 404, "message": "HTTP 404 Not Found"}
    return 200, shown.dataset_json(dataset)


def _ingest(state: Marquez, body: bytes) -> tuple[int, Any]:
    try:
        try:
            event = json.loads(body) if body.strip() else None  # none: null, as Jersey reads it
        except ValueError:
            raise Rejected(500, "the body is not JSON") from None
        check(event)
        try:
            state.store.ingest(event, kind_of(event))
        except Exception as error:  # what Marquez fails on while storing, it answers 500 to
            raise Rejected(500, f"storing failed: {type(error).__name__} {error}") from None
    except Rejected as rejection:
        state.rejected.append((rejection.status, str(rejection)))
        if rejection.status == 422:
            return 422, {"errors": str(rejection).split("; ")}
        # Marquez's JSON exception mapper answers 500 with code 400 in the body
        return rejection.status, {"code": 400, "message": str(rejection)}
    state.accepted.append(event)
    return 201, None


def _handler(state: Marquez) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _call(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path, _, query = self.path.partition("?")
            # split before unquoting, so a %2F stays inside its segment (a dataset name)
            parts = [unquote(part) for part in path.strip("/").split("/")]
            with lock:
                status, answer = _route(state, self.command, parts[2:] if parts[:2] == [
                    "api", "v1"] else [], parse_qs(query), body)
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _call

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@contextmanager
def running_marquez() -> Iterator[Marquez]:
    """A stand-in on 127.0.0.1 (a free port); `.url` is the base URL to give the client."""
    state = Marquez(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


__all__ = ["PATH", "Marquez", "Rejected", "check", "running_marquez"]
