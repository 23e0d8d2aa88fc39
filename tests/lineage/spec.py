"""Hold an event to the official OpenLineage JSON Schemas, offline (shared test helper).

The schemas live in `tests/lineage/openlineage_spec/` (spec 2-0-2 and the facet schemas), the
official ones as published (where they came from: its README.md). They are loaded into a
`referencing.Registry` keyed by each file's `$id`, so every `$ref` between them resolves with
no network. The event is validated as a RunEvent (or the kind its `schemaURL` names); the core
schema only checks facets as BaseFacet, so each facet is then validated on its own, as
`{facet_key: facet}` against the file its `_schemaURL` names. The format checker makes `uuid`
and `date-time` real checks.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# A copy of the official schemas (Apache-2.0, LICENSE alongside) travels with the tests, so a
# clean clone anywhere validates offline.
SPEC_DIR = Path(__file__).parent / "openlineage_spec"
CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
STANDARD = "https://openlineage.io/spec/"  # facets outside it are custom: core checks only
EVENT_KINDS = ("RunEvent", "DatasetEvent", "JobEvent")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats only judge strings; `type` judges the rest
    if not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


@cache
def format_checker() -> FormatChecker:
    """`Draft202012Validator.FORMAT_CHECKER`, plus `date-time` where jsonschema would skip it
    (it checks that format only with the optional rfc3339-validator installed)."""
    checker = FormatChecker()
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(_date_time)
    return checker


@cache
def registry() -> Registry:
    if not (SPEC_DIR / "OpenLineage.json").is_file():
        raise FileNotFoundError(f"the OpenLineage JSON Schemas are missing from {SPEC_DIR}")
    resources = []
    for path in sorted([SPEC_DIR / "OpenLineage.json", *SPEC_DIR.glob("facets/*.json")]):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(
            contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=registry(), format_checker=format_checker())


def _facet_groups(event: dict) -> list[tuple[str, dict]]:
    """(where, facets) for every facet map of the event."""
    groups = [("run", event.get("run", {}).get("facets") or {}),
              ("job", event.get("job", {}).get("facets") or {})]
    datasets = [("input", d) for d in event.get("inputs") or []]
    datasets += [("output", d) for d in event.get("outputs") or []]
    if "dataset" in event:
        datasets.append(("dataset", event["dataset"]))
    for role, dataset in datasets:
        where = f"{role} {dataset.get('namespace')}/{dataset.get('name')}"
        groups.append((where, dataset.get("facets") or {}))
        for key in ("inputFacets", "outputFacets"):
            groups.append((f"{where} {key}", dataset.get(key) or {}))
    return groups


def validate_event(event: dict[str, Any]) -> list[str]:
    """Raise `jsonschema.ValidationError` unless `event` (a parsed JSON event) conforms.

    Returns the standard facets checked against their own schema, as "where: key"."""
    kind = str(event.get("schemaURL", "")).rsplit("/", 1)[-1]
    kind = kind if kind in EVENT_KINDS else "RunEvent"
    _validator({"$ref": f"{CORE}#/$defs/{kind}"}).validate(event)
    checked = []
    for where, facets in _facet_groups(event):
        for key, facet in facets.items():
            url = facet.get("_schemaURL", "")
            if not url.startswith(STANDARD) or url.startswith(CORE):
                continue
            document = url.split("#", 1)[0]
            root = registry().contents(document)  # an unknown version fails here
            if key not in root.get("properties", {}):
                raise AssertionError(f"{where}: facet {key!r} is not the key {document} "
                                     f"defines ({sorted(root.get('properties', {}))})")
            _validator({"$ref": document}).validate({key: facet})
            checked.append(f"{where}: {key}")
    return checked


__all__ = ["SPEC_DIR", "edited", "registry", "validate_event"]


def edited(event: dict, path: str, value: Any = None, *, delete: bool = False) -> dict:
    """A deep copy of `event` with the value at dotted `path` (list items by index) replaced,
    or deleted: for tests that show what one wrong field does."""
    edited_event = copy.deepcopy(event)
    *parents, last = path.split(".")
    target = edited_event
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if delete:
        del target[last]
    else:
        target[last] = value
    return edited_event
