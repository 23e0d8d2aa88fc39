"""Fields the contract does not name: held back, reported, never published.

BigCommerce adds fields to its responses without a new API version. Such a field must neither
block the batch (the known fields are fine) nor reach what dbt reads before a steward has
classified it (it may be personal data). So the extraction takes it out of each record as it
stages it (`Drift.split`) and keeps its values in the batch's unclassified zone, beside the
quarantine;
the `schema_contract` check names it, with its JSON types, how many records carried it and
examples masked as if personal. Once the contract names the field, the next batch publishes
it, and `python3 run.py publish-classified` backfills the held values of past batches.

A check WARNs for a held field the table has not held before; a *strict* contract WARNs on
every batch that holds one, until the field is classified.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from checks.findings import Finding
from checks.masking import mask

UNCLASSIFIED = "unclassified"  # the masking class of a value nobody has classified yet
RULE = "unclassified_field"
MAX_EXAMPLES = 3


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), type(value).__name__)


@dataclass
class UnclassifiedField:
    """One unnamed field over a batch: how many records carried it, as which JSON types."""

    name: str
    records: int = 0
    json_types: Counter = field(default_factory=Counter)
    examples: list[Any] = field(default_factory=list)  # raw: mask before showing

    def add(self, value: Any) -> None:
        self.records += 1
        self.json_types[json_type(value)] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(value)

    @property
    def types(self) -> str:
        return "/".join(name for name, _ in self.json_types.most_common())

    def shown(self) -> dict[str, Any]:
        """What a check, an alert or a log may show of it: names, counts, masked examples."""
        return {"field": self.name, "json_type": self.types, "records": self.records,
                "examples": [mask(value, UNCLASSIFIED) for value in self.examples]}


@dataclass
class Drift:
    """The fields a batch held back, found while staging it."""

    known: frozenset[str]
    fields: dict[str, UnclassifiedField] = field(default_factory=dict)

    def split(self, record: Any) -> tuple[Any, dict[str, Any]]:
        """The record with only the contract's fields, and the held ones by name."""
        if not isinstance(record, dict):
            return record, {}
        unknown = record.keys() - self.known
        if not unknown:
            return record, {}
        held = {name: record[name] for name in sorted(unknown)}
        for name, value in held.items():
            self.fields.setdefault(name, UnclassifiedField(name)).add(value)
        return {k: v for k, v in record.items() if k not in unknown}, held

    def findings(self, *, strict: bool, seen_before: Iterable[str]) -> list[Finding]:
        """A `warn` finding per field that is new to the table, or per held field at all
        when the contract is strict."""
        before = set(seen_before)
        return [
            Finding(RULE, held.name, "warn", held.records,
                    f"field {held.name!r} ({held.types}) is not in the contract: held back "
                    f"from {held.records} records until a steward classifies it"
                    + ("" if held.name not in before else " (held since an earlier batch)"),
                    examples=list(held.examples))
            for held in self.fields.values() if strict or held.name not in before
        ]

    def summary(self) -> str:
        return json.dumps([held.shown() for held in self.fields.values()], ensure_ascii=False)
