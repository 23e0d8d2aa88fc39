"""The two ways to run both audits on a staged batch: in the warehouse (the default) or in memory.

`GOV_AUDIT_ENGINE` picks one, read when a batch is audited: `warehouse` runs the Pandera rules
and the GX suite as SQL in DuckDB over the staged file (`checks.warehouse`), so memory stays
flat whatever the batch's size; `memory` is the earlier audit, a pandas frame of the whole
batch (`checks.frame`), kept as the baseline the benchmarks compare against and as the oracle
the warehouse audit is tested against. Either yields a `Judged`: the two results and the few
lookups the policy needs afterwards, so `checks.audit` does not know which one ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from checks.findings import AuditResult
from checks.frame import frame_from_batch
from checks.gx_audit import CHECK_NAME as GX_CHECK
from checks.gx_audit import gx_audit
from checks.pandera_audit import pandera_audit
from contracts.base import Contract

ENGINES = ("warehouse", "memory")
NOT_RUN = "not run: the batch does not match its schema contract (see schema_contract)"


def audit_engine() -> str:
    name = os.environ.get("GOV_AUDIT_ENGINE", "warehouse").strip().lower()
    if name not in ENGINES:
        raise ValueError(f"GOV_AUDIT_ENGINE={name!r} is not one of {', '.join(ENGINES)}")
    return name


@dataclass
class Judged:
    schema: AuditResult
    quality: AuditResult
    rows: int
    # Nulls per contract column: counts only, for lineage's quality metrics.
    null_counts: dict[str, int]
    all_rows: Callable[[], list[int]]  # every staged row (a blocked batch quarantines them)
    keys: Callable[[list[str]], pd.DataFrame]  # these columns by `_row` (family holds)
    sample: Callable[[list[AuditResult]], pd.DataFrame | None]  # rows the checks may show


def _null_counts(data: pd.DataFrame, contract: Contract) -> dict[str, int]:
    """A date the source sent empty is parsed to NaT, so it counts as null, as the contract
    reads it ("no date"). A column at a time: selecting them all would copy the frame."""
    names = [column.name for column in contract.columns if column.name in data.columns]
    return {name: int(data[name].isna().sum()) for name in names}


@contextmanager
def in_memory(contract: Contract, staged: Path) -> Iterator[Judged]:
    frame = frame_from_batch(staged, contract)
    schema, typed = pandera_audit(contract, frame)
    quality = (gx_audit(contract, typed) if typed is not None
               else AuditResult(GX_CHECK, frame.rows, error=NOT_RUN))
    shown = typed if typed is not None else frame.data
    yield Judged(schema, quality, frame.rows, _null_counts(frame.data, contract),
                 all_rows=lambda: list(frame.data.index), keys=lambda _: frame.data,
                 sample=lambda _: shown)


@contextmanager
def in_scratch(contract: Contract, scratch: Any) -> Iterator[Judged]:
    """The warehouse audit in `scratch` (a `checks.warehouse.audit.Scratch`: DuckDB's file or
    BigQuery's dataset)."""
    from checks.warehouse.audit import warehouse_audit  # duckdb and GX's SQL engine

    with warehouse_audit(contract, scratch) as audit:
        yield Judged(audit.schema, audit.quality, audit.rows, audit.null_counts,
                     all_rows=audit.all_rows, keys=audit.keys, sample=audit.sample)


def in_warehouse(contract: Contract, staged: Path) -> ContextManager[Judged]:
    """Locally: DuckDB over the staged file."""
    from checks.warehouse.duckdb_scratch import DuckDBScratch

    return in_scratch(contract, DuckDBScratch(staged))


def on_bigquery(scratch: Any) -> Judge:
    """The judge of a batch already loaded into BigQuery (`BigQueryScratch`)."""
    return lambda contract, _staged: in_scratch(contract, scratch)


Judge = Callable[[Contract, Path], ContextManager[Judged]]
JUDGES: dict[str, Judge] = {"warehouse": in_warehouse, "memory": in_memory}
