"""PII classes as Marquez tags, through Marquez's tag API.

Marquez stores an event's `tags` facet as a plain facet, visible only in the raw facets JSON; the
tags its UI shows on datasets and fields come from its tag API. So after an event is delivered
to Marquez, each field its `tags` facet classifies (key `pii`) is tagged `pii:<class>`:
`PUT /api/v1/tags/{tag}` once per tag, then
`POST /api/v1/namespaces/{ns}/datasets/{ds}/fields/{field}/tags/{tag}` once per field and tag.

Only fields the same event's schema facet lists are tagged: Marquez answers 404 for a field it
does not hold. Like every lineage delivery, tagging never raises: failures are counted and
logged by type only (a URL may carry credentials), and after `GIVE_UP_AFTER` failed calls in a
row the tagger stops calling, so a Marquez that takes events but stalls on tags costs a step a
few timeouts, not one per field.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from openlineage.client.serde import Serde

LOG = logging.getLogger("commerce_governance.lineage")
PII_KEY = "pii"
GIVE_UP_AFTER = 3


def tag_name(key: str, value: str) -> str:
    """The Marquez tag of one classification: `pii:email`."""
    return f"{key}:{value}"


def _segment(text: str) -> str:
    return quote(text, safe="")  # a dataset name holds `/` and `.`; each is one path segment


def field_tags(event: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(namespace, dataset, field, tag) of every PII class the event's datasets state on a field
    their schema facet lists; `event` is the JSON form (`Serde.to_dict`, or an outbox line)."""
    for dataset in [*(event.get("inputs") or []), *(event.get("outputs") or [])]:
        facets = dataset.get("facets") or {}
        tags, schema = facets.get("tags"), facets.get("schema")
        if tags is None or schema is None:
            continue
        fields = {column["name"] for column in schema.get("fields") or []}
        for tag in tags.get("tags") or []:
            if tag.get("key") == PII_KEY and tag.get("field") in fields:
                yield (dataset["namespace"], dataset["name"], tag["field"],
                       tag_name(tag["key"], tag["value"]))


@dataclass
class MarquezTagger:
    """Tags fields in the Marquez at `url`; remembers what it did, so each is asked once."""

    url: str
    timeout_s: float = 2.0
    tagged: int = 0
    failed: int = 0
    _streak: int = 0
    _done: set[tuple[str, ...]] = field(default_factory=set, repr=False)
    _session: requests.Session = field(default_factory=requests.Session, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tag_event(self, event: Any) -> None:
        """Tag the fields of `event`: a RunEvent or its JSON form."""
        if not isinstance(event, Mapping):
            event = Serde.to_dict(event)
        with self._lock:  # events arrive from several lanes (LineageEmitter.emit_all)
            self._tag(event)

    def _tag(self, event: Any) -> None:
        for namespace, dataset, column, tag in field_tags(event):
            if ("tag", tag) not in self._done and self._call(
                    "PUT", f"tags/{_segment(tag)}", json={
                        "description": "PII class from the table's contract or dbt meta"}):
                self._done.add(("tag", tag))
            key = (namespace, dataset, column, tag)
            if key in self._done or ("tag", tag) not in self._done:
                continue
            if self._call("POST", f"namespaces/{_segment(namespace)}/datasets/"
                                  f"{_segment(dataset)}/fields/{_segment(column)}/tags/"
                                  f"{_segment(tag)}"):
                self._done.add(key)
                self.tagged += 1

    def _call(self, method: str, path: str, **kwargs: Any) -> bool:
        if self._streak >= GIVE_UP_AFTER:
            self.failed += 1  # given up: counted, not tried
            return False
        try:
            answer = self._session.request(method, f"{self.url.rstrip('/')}/api/v1/{path}",
                                           timeout=self.timeout_s, **kwargs)
            answer.raise_for_status()
            self._streak = 0
            return True
        except Exception as error:  # tagging is lineage: it must never fail the run
            self.failed += 1
            self._streak += 1
            status = getattr(getattr(error, "response", None), "status_code", None)
            LOG.warning("Marquez tag API %s not done: %s%s", method, type(error).__name__,
                        f" {status}" if status else "")
            return False


__all__ = ["GIVE_UP_AFTER", "MarquezTagger", "field_tags", "tag_name"]
