"""Related rows publish together: a child row quarantined holds its parent back, with the
parent's other children; a parent quarantined (or gone) holds its children (invariant 11).

Run on a child table's batch (order lines) once its own rows are judged. Held children go to
the quarantine with a rule that says why, though they broke nothing: `held_with_sibling`
(another child of the same parent broke a rule) or `held_with_parent` (the parent's newest
version is quarantined, or the source lost it). Held parents are written as holds
(`resources.raw_zone.holds`), which keep them out of the parent's current view until a later
batch finds their family clean. Held children do not count towards the child table's limit
(they broke nothing); held parents count towards the parent table's, and a batch that would
hold more of them than that limit allows is blocked instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from checks.policy import QuarantineReason
from contracts.base import Contract, Relation

HELD_WITH_CHILD = "held_with_child"
HELD_WITH_SIBLING = "held_with_sibling"
HELD_WITH_PARENT = "held_with_parent"
HELD_OVER_LIMIT = "held_parents_over_limit"  # the batch-level finding when too many would wait


@dataclass
class FamilyHolds:
    """What one child batch holds, per relation (parent table)."""

    relation: Relation
    parents_held: dict[int, tuple[str, str]] = field(default_factory=dict)  # key: (rule, why)
    parents_clean: set[int] = field(default_factory=set)
    children_held: dict[int, QuarantineReason] = field(default_factory=dict)  # staged row -> why

    def summary(self) -> str:
        return (f"{len(self.parents_held)} {self.relation.parent} held with "
                f"{len(self.children_held)} other rows of theirs")


def _keys(data: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(data[column], errors="coerce").astype("Int64") \
        if column in data.columns else pd.Series(pd.NA, index=data.index, dtype="Int64")


def hold_families(contract: Contract, data: pd.DataFrame,
                  quarantine: Mapping[int, QuarantineReason],
                  parents_out: Mapping[str, Mapping[int, str]]) -> list[FamilyHolds]:
    """`data`: the batch's staged rows (index `_row`); `quarantine`: the rows quarantined on
    their own; `parents_out`: per parent table, keys held for reasons outside this batch
    (their newest version quarantined, or their children gone) with why."""
    families = []
    for relation in contract.parents:
        keys = _keys(data, relation.column)
        family = FamilyHolds(relation)
        outside = parents_out.get(relation.parent, {})
        for row, why in quarantine.items():
            key = keys.get(row)
            if key is not None and not pd.isna(key) and int(key) not in family.parents_held:
                family.parents_held[int(key)] = (
                    HELD_WITH_CHILD, f"{contract.table} row {row} broke {why.rule}"
                    + (f" on {why.column}" if why.column else ""))
        for key, why in outside.items():
            family.parents_held.setdefault(key, (HELD_WITH_CHILD, why))
        for row, key in keys.items():
            if pd.isna(key) or row in quarantine:
                continue
            key = int(key)
            if key in outside:
                family.children_held[row] = QuarantineReason(
                    "family", HELD_WITH_PARENT, relation.column,
                    f"held with {relation.parent} {key}: {outside[key]}"[:300])
            elif key in family.parents_held:
                family.children_held[row] = QuarantineReason(
                    "family", HELD_WITH_SIBLING, relation.column,
                    f"held with {relation.parent} {key}: {family.parents_held[key][1]}"[:300])
            else:
                family.parents_clean.add(key)
        family.parents_clean -= set(family.parents_held)
        families.append(family)
    return families


def hold_whole_batch(contract: Contract, data: pd.DataFrame, why: str) -> list[FamilyHolds]:
    """A blocked child batch: nothing of it is published, so every parent it touched waits
    (else a new order would show without its lines)."""
    families = []
    for relation in contract.parents:
        family = FamilyHolds(relation)
        for key in _keys(data, relation.column).dropna().unique():
            family.parents_held[int(key)] = (HELD_WITH_CHILD, why)
        families.append(family)
    return families


def over_parent_limit(families: list[FamilyHolds],
                      limits: Mapping[str, float]) -> str | None:
    """Why holding these parents is too many for a parent table's own limit, if it is."""
    for family in families:
        touched = len(family.parents_held) + len(family.parents_clean)
        fraction = len(family.parents_held) / touched if touched else 0.0
        limit = limits[family.relation.parent]
        if fraction > limit:
            return (f"would hold {len(family.parents_held)} of {touched} "
                    f"{family.relation.parent} ({fraction:.1%}) with their rows here, over "
                    f"that table's limit of {limit:.0%}")
    return None
