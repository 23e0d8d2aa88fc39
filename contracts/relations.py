"""The parent/child relations the contracts declare, checked across every contract at load.

A relation names its parent table; the parent must be a contract too, and the relations must
not form a cycle (a table cannot be its own ancestor: holding one would hold the other for
ever). A wrong relation fails when the definitions load, naming both tables.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.base import Contract, ContractError, Relation


def check_relations(contracts: Iterable[Contract]) -> None:
    by_name = {contract.qualified_name: contract for contract in contracts}
    for contract in by_name.values():
        for relation in contract.parents:
            if relation.parent not in by_name:
                raise ContractError(
                    f"contract {contract.qualified_name}: relation {relation.column} -> "
                    f"{relation.parent}: no contract for table {relation.parent} (known: "
                    f"{', '.join(sorted(by_name))})")
    for name in by_name:
        _refuse_cycle(name, by_name, [])


def _refuse_cycle(name: str, by_name: dict[str, Contract], path: list[str]) -> None:
    if name in path:
        cycle = " -> ".join([*path[path.index(name):], name])
        raise ContractError(f"contract relations form a cycle: {cycle}")
    for relation in by_name[name].parents:
        _refuse_cycle(relation.parent, by_name, [*path, name])


def children_of(parent: Contract, contracts: Iterable[Contract]) -> list[tuple[Contract, Relation]]:
    """The contracts that name `parent` as theirs, with the relation."""
    return [(child, relation) for child in contracts for relation in child.parents
            if relation.parent == parent.qualified_name]
