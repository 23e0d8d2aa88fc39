"""One contract per source table (Pandera models with owners, PII classes and rules)."""

from __future__ import annotations

from contracts.base import Contract
from contracts.bigcommerce import (
    customer_metafields,
    customers,
    inventory,
    order_products,
    orders,
    products,
)
from contracts.relations import check_relations
from contracts.wise import point_transactions, quotations

# Every source table's contract, in extraction order; `contract_for` finds one by name.
CONTRACTS: tuple[Contract, ...] = (
    customers.CONTRACT,
    customer_metafields.CONTRACT,
    orders.CONTRACT,
    order_products.CONTRACT,
    products.CONTRACT,
    inventory.CONTRACT,
    point_transactions.CONTRACT,
    quotations.CONTRACT,
)
check_relations(CONTRACTS)  # a relation to a table that has no contract fails here, at load
_BY_NAME = {(contract.source, contract.table): contract for contract in CONTRACTS}


def contract_for(source: str, table: str) -> Contract:
    """The contract of `source.table`; KeyError naming the known tables if there is none."""
    try:
        return _BY_NAME[(source, table)]
    except KeyError:
        known = ", ".join(contract.qualified_name for contract in CONTRACTS)
        raise KeyError(f"no contract for table {source}.{table}; contracts exist for: {known}") \
            from None
