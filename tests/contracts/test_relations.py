"""Relations between contracts are checked when the contracts load: a relation to a table or
a column that does not exist, or a cycle, is refused with both tables named."""

from __future__ import annotations

import dataclasses

import pytest

from contracts import CONTRACTS, contract_for
from contracts.base import ContractError, Relation
from contracts.relations import check_relations, children_of

ORDERS = contract_for("bigcommerce", "orders")
LINES = contract_for("bigcommerce", "order_products")


def test_order_lines_and_metafields_name_their_parents():
    assert [(c.qualified_name, r.column) for c, r in children_of(ORDERS, CONTRACTS)] == [
        ("bigcommerce.order_products", "order_id")]
    customers = contract_for("bigcommerce", "customers")
    assert [c.qualified_name for c, _ in children_of(customers, CONTRACTS)] == [
        "bigcommerce.customer_metafields"]
    check_relations(CONTRACTS)


def test_a_relation_to_a_table_without_a_contract_names_both():
    broken = dataclasses.replace(LINES, parents=(Relation("order_id", "bigcommerce.orderz"),))
    with pytest.raises(ContractError, match=r"bigcommerce\.order_products.*bigcommerce\.orderz"):
        check_relations([ORDERS, broken])


def test_a_relation_through_a_column_the_model_lacks_is_refused():
    with pytest.raises(ContractError, match=r"order_products.*bigcommerce\.orders.*'order_no'"):
        dataclasses.replace(LINES, parents=(Relation("order_no", "bigcommerce.orders"),))


def test_a_cycle_of_relations_is_refused():
    looped = dataclasses.replace(ORDERS, parents=(Relation("id", "bigcommerce.order_products"),))
    with pytest.raises(ContractError, match=r"cycle: .*orders -> bigcommerce\.order_products"):
        check_relations([looped, LINES])
