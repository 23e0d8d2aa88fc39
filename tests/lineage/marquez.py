"""A stand-in for Marquez's ingest endpoint on loopback (shared test helper).

Marquez cannot run on the build machines, so this receiver holds events to the ingest rules it
enforces (`tests/lineage/reference/openlineage-marquez.md`): `POST /api/v1/lineage` answers 201;
400 for JSON it cannot parse or an invalid namespace; 422 when bean validation fails (no
`eventTime`, `producer`, `run.runId`, job or dataset `namespace`/`name`, or a facet Marquez
models missing its required fields). The event kind comes from the tail of `schemaURL`.
Accepted events and rejections are recorded for the test to inspect.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/api/v1/lineage"
# marquez.common.models.NamespaceName (0.51): letters, digits and _ - : ; = / . @ +
NAMESPACE = re.compile(r"^[a-zA-Z:;=/0-9_\-.@+]{1,1024}$")
# Facets Marquez models (LineageEvent.java), with the fields its bean validation requires;
# every one of them also needs `_producer` and `_schemaURL`. Other facets are kept as given.
RUN_FACETS = {"nominalTime": ("nominalStartTime",), "parent": ("run.runId", "job.namespace",
                                                                "job.name")}
JOB_FACETS = {"documentation": ("description",), "sql": ("query",), "sourceCodeLocation": ()}
DATASET_FACETS = {"documentation": ("description",), "schema": (), "dataSource": (),
                  "lifecycleStateChange": ()}


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _require(value: Any, path: str, where: str) -> Any:
    found = _get(value, path)
    if found is None or found == "":
        raise Rejected(422, f"{where}.{path} must not be null")
    return found


def _namespace(value: Any, where: str) -> None:
    namespace = _require(value, "namespace", where)
    if not isinstance(namespace, str) or not NAMESPACE.match(namespace):
        raise Rejected(400, f"{where}.namespace {namespace!r} is not a valid namespace")
    _require(value, "name", where)


def _facets(facets: Any, known: dict[str, tuple[str, ...]], where: str) -> None:
    for key, required in known.items():
        facet = (facets or {}).get(key)
        if facet is None:
            continue
        for path in ("_producer", "_schemaURL", *required):
            _require(facet, path, f"{where}.facets.{key}")
    for field_ in _get(facets, "schema.fields") or []:
        _require(field_, "name", f"{where}.facets.schema.fields[]")


def check(event: Any) -> None:
    """Raise `Rejected` with Marquez's status for an event it would refuse."""
    if not isinstance(event, dict):
        raise Rejected(400, "the body is not a JSON object")
    kind = str(event.get("schemaURL") or "").rsplit("/", 1)[-1]
    event_time = _require(event, "eventTime", "event")
    try:
        if datetime.fromisoformat(str(event_time).replace("Z", "+00:00")).tzinfo is None:
            raise ValueError("no offset")
    except ValueError:
        raise Rejected(400, f"eventTime {event_time!r} is not a zoned date-time") from None
    _require(event, "producer", "event")
    if kind == "DatasetEvent":
        _namespace(event.get("dataset"), "dataset")
        return
    _namespace(event.get("job"), "job")
    _facets(_get(event, "job.facets"), JOB_FACETS, "job")
    if kind == "JobEvent":
        return
    run_id = _require(event, "run.runId", "event")
    try:
        uuid.UUID(str(run_id))
    except ValueError:
        raise Rejected(400, f"run.runId {run_id!r} is not a UUID") from None
    _facets(_get(event, "run.facets"), RUN_FACETS, "run")
    for role in ("inputs", "outputs"):
        for dataset in event.get(role) or []:
            _namespace(dataset, role)
            _facets(dataset.get("facets"), DATASET_FACETS, role)


@dataclass
class Marquez:
    url: str
    accepted: list[dict] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _handler(state: Marquez) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") != PATH:
                return self._answer(404, "not found")
            try:
                try:
                    event = json.loads(body)
                except ValueError:
                    raise Rejected(400, "the body is not JSON") from None
                check(event)
            except Rejected as rejection:
                with lock:
                    state.rejected.append((rejection.status, str(rejection)))
                return self._answer(rejection.status, str(rejection))
            with lock:
                state.accepted.append(event)
            return self._answer(201, "")

        def _answer(self, status: int, message: str) -> None:
            payload = json.dumps({"code": status, "message": message}).encode() if message else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@contextmanager
def running_marquez() -> Iterator[Marquez]:
    """A receiver on 127.0.0.1 (a free port); `.url` is the base URL to give the client."""
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
