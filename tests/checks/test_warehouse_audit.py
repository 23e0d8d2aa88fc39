"""The audit in the warehouse judges exactly as the in-memory audit does.

Each scenario stages the same sandbox records (with one fault injected) twice, audits one
batch in memory (pandas, the earlier audit) and the other in DuckDB (`checks.warehouse`), and
compares everything the policy and the steward see: the verdict, every finding's rule, column,
level, count and staged rows, the rows moved to quarantine with their rules, the null counts
and each check result's description and numbers. The in-memory audit is the oracle: it is
Pandera's and GX's own pandas backends.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from checks import contract_check_specs
from checks.audit import Staging, audit_batch
from contracts.base import Contract, ContractError, Owner
from resources.raw_zone import RawZone
from sandbox.bigcommerce.data import Dataset, DatasetSize
from sandbox.raw_zone_fill import SPECS, stage_records

ANCHOR = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset.generate(7, DatasetSize.scaled(60), ANCHOR)


def _records(dataset: Dataset, asset: str) -> list[dict]:
    if asset == "src_order":
        return copy.deepcopy(dataset.orders)
    if asset == "src_customer":
        return copy.deepcopy(dataset.customers)
    if asset == "src_order_product":
        return copy.deepcopy([line for lines in dataset.order_products.values()
                              for line in lines])
    if asset == "bigcommerce_onsale_product_inventory":
        return copy.deepcopy(dataset.inventory_items)
    return copy.deepcopy(dataset.products)


def _set(index: int, field: str, value) -> Callable[[list[dict]], None]:
    def fault(records: list[dict]) -> None:
        records[index][field] = value
    return fault


def _every(field: str, value) -> Callable[[list[dict]], None]:
    def fault(records: list[dict]) -> None:
        for record in records:
            record[field] = value(record) if callable(value) else value
    return fault


def _drop(field: str) -> Callable[[list[dict]], None]:
    def fault(records: list[dict]) -> None:
        for record in records:
            record.pop(field, None)
    return fault


def _many(*faults) -> Callable[[list[dict]], None]:
    def fault(records: list[dict]) -> None:
        for one in faults:
            one(records)
    return fault


SCENARIOS = {
    "clean orders": ("src_order", None),
    "an id sent as a string": ("src_order", _set(3, "customer_id", "17")),
    "a negative total and a bad status name": (
        "src_order", _many(_set(2, "total_inc_tax", "-5.0000"), _set(5, "status", "Lost"))),
    "a rate that is not one in the store's currency": (
        "src_order", _set(4, "store_default_to_transactional_exchange_rate", "1.2000")),
    "a total that does not add up": ("src_order", _set(6, "total_inc_tax", "9999.0000")),
    "an unparseable date and an empty one": (
        "src_order", _many(_set(1, "date_created", "yesterday"), _set(2, "date_shipped", ""))),
    "a duplicated id": ("src_order_product", _set(1, "id", 101)),
    "too many bad rows": ("src_order", _every("items_total", -1)),
    "a column retyped everywhere": ("src_order", _every("customer_id", lambda r: str(r["id"]))),
    "a column missing everywhere": ("src_order", _drop("payment_status")),
    "a bad customer e-mail": ("src_customer", _set(2, "email", "not-an-email")),
    "a phone in another format": ("src_customer", _every("phone", "12")),
    "inventory with lifted keys": ("bigcommerce_onsale_product_inventory", None),
    "a product variant off its product": ("src_product", None),
}


def _audited(tmp_path, name: str, asset: str, records: list[dict], engine: str):
    zone = RawZone(tmp_path / name / "raw", tmp_path / name / "w.duckdb")
    batch = stage_records(zone, asset, records, run_id=f"run-{engine}")
    staging = Staging()
    audit = audit_batch(SPECS[asset].contract, batch, SPECS[asset].key, staging, engine=engine)
    batch.seal()
    quarantined = zone.paths.staging(batch.ref, batch.batch_id, zone="quarantine")
    moved = []
    if quarantined.exists():
        import pyarrow.parquet as pq
        table = pq.read_table(quarantined, columns=["_row", "_rule", "_column", "_stage"])
        moved = sorted(zip(*(table.column(n).to_pylist() for n in table.column_names),
                           strict=True))
    return audit, moved, batch.rows


def _plain(value):
    """numpy scalars as Python's, so both engines' examples print alike."""
    if isinstance(value, tuple | list):
        return tuple(_plain(v) for v in value)
    return value.item() if hasattr(value, "item") else value


def _findings(audit) -> list[tuple]:
    return [(r.check, f.rule, f.column, f.level, f.count, tuple(f.rows),
             tuple(str(_plain(e)) for e in f.examples))
            for r in audit.results for f in r.findings]


def _checks(audit) -> list[tuple]:
    return [(c.check_name, c.passed, c.severity, c.description,
             c.metadata["rows_failing"].value, c.metadata["rows_audited"].value)
            for c in audit.check_results]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_warehouse_audit_judges_as_the_in_memory_audit(tmp_path, dataset, scenario):
    asset, fault = SCENARIOS[scenario]
    records = _records(dataset, asset)
    if fault is not None:
        fault(records)
    memory, memory_moved, memory_left = _audited(tmp_path, "memory", asset, records, "memory")
    sql, sql_moved, sql_left = _audited(tmp_path, "warehouse", asset, records, "warehouse")
    assert (sql.verdict.outcome, sql.verdict.summary) == \
        (memory.verdict.outcome, memory.verdict.summary)
    assert _findings(sql) == _findings(memory)
    assert sql.quarantined_by_rule == memory.quarantined_by_rule
    assert sql_moved == memory_moved and sql_left == memory_left
    assert sql.null_counts == memory.null_counts
    assert _checks(sql) == _checks(memory)
    assert [r.error for r in sql.results] == [r.error for r in memory.results]


def test_the_scenarios_exercise_every_outcome(tmp_path, dataset):
    """The comparison above means something only if the faults do bite."""
    outcomes = {}
    for scenario in ("clean orders", "a bad customer e-mail", "too many bad rows"):
        asset, fault = SCENARIOS[scenario]
        records = _records(dataset, asset)
        if fault is not None:
            fault(records)
        audit, _, _ = _audited(tmp_path, scenario.replace(" ", "_"), asset, records, "warehouse")
        outcomes[scenario] = audit.verdict.outcome
    assert outcomes == {"clean orders": "passed", "a bad customer e-mail": "quarantined",
                        "too many bad rows": "blocked"}


class Lines(pa.DataFrameModel):
    id: Series[int] = pa.Field(description="Line id.")

    @pa.dataframe_check(name="ids_are_odd")
    def ids_are_odd(cls, df: pd.DataFrame) -> pd.Series:
        return df["id"] % 2 == 1

    class Config:
        description = "Test lines."


def test_a_dataframe_check_without_sql_is_refused_naming_it():
    contract = Contract(source="shop", table="lines", model=Lines,
                        owner=Owner("t", "t@example.com"), primary_key="id")
    with pytest.raises(ContractError, match=r"shop\.lines: dataframe check ids_are_odd"):
        contract_check_specs(contract, dg.AssetKey("src_line"))
