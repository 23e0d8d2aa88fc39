"""From staged JSON records to the DataFrame the audits read, typed by the contract.

Each record's top-level fields become columns and the staged row number (`_row`) the index,
so every failure found later points back at one staged row. Values are converted by the
contract's column types, but only from the JSON type that type expects: a number sent as a
string is not silently coerced, it is a *type mismatch*, which the schema audit reports (and
which blocks the batch, since the source changed shape). Date columns are parsed from the
format the contract names (ISO-8601 or RFC-2822); an empty string there means "no date".

The work is done a column at a time (type tests as comprehensions, dates parsed by pandas in
one call), because a per-value loop in Python costs more than the audits themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from contracts.base import Column, Contract

MAX_EXAMPLES = 5
DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")
# How pandas reads each date format the contracts name.
DATE_FORMATS = {"iso8601": "ISO8601", "rfc2822": "%a, %d %b %Y %H:%M:%S %z"}
# Which Python types a column's JSON values may have, by the contract's dtype.
ACCEPTED = {"integer": (int,), "boolean": (bool,), "string": (str,), "number": (int, float)}


@dataclass
class TypeMismatch:
    """Values of one column that arrived as a JSON type the contract does not accept."""

    expected: str
    count: int = 0
    rows: list[int] = field(default_factory=list)
    examples: list[Any] = field(default_factory=list)


@dataclass
class AuditFrame:
    data: pd.DataFrame
    keys_seen: set[str]
    mismatches: dict[str, TypeMismatch]

    @property
    def rows(self) -> int:
        return len(self.data)


def _kind(column: Column) -> str:
    dtype = column.dtype.lower()
    if "datetime" in dtype:
        return "datetime"
    if dtype.startswith(("int", "uint")):
        return "integer"
    if dtype.startswith("float"):
        return "number"
    if dtype == "bool":
        return "boolean"
    if dtype == "str":
        return "string"
    return "any"


def _expected(kind: str, column: Column) -> str:
    if kind == "datetime":
        return f"a {column.time_format or 'native'} date string"
    if kind == "number":
        return "a number or a decimal string"
    return f"a JSON {kind}"


def _lifted(record: dict, lift: Any) -> dict:
    record = dict(record)
    for name, path in lift.items():
        value: Any = record
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        record[name] = value
    return record


def _collect(rows: Iterable[tuple[int, dict]], contract: Contract, names: list[str]
             ) -> tuple[list[int], dict[str, list[Any]], set[str]]:
    """Column lists (None where a record lacks the field) and every key any record had."""
    index: list[int] = []
    records: list[dict] = []
    for row, record in rows:
        index.append(row)
        records.append(_lifted(record, contract.lift) if contract.lift else record)
    keys_seen: set[str] = set().union(*records) if records else set()
    extra = sorted(keys_seen - set(names))  # fields the contract does not know
    values = {name: [record.get(name) for record in records] for name in [*names, *extra]}
    return index, values, keys_seen


def _bad_positions(values: list[Any], kind: str, column: Column) -> tuple[list[int], pd.Series]:
    """Positions of values of the wrong JSON type, and the column converted for the audits."""
    if kind == "datetime":
        text = pd.Series([None if v == "" else v for v in values], dtype=object)
        strings = text.where(text.map(lambda v: isinstance(v, str)))
        parsed = pd.to_datetime(strings, utc=True, errors="coerce",
                                format=DATE_FORMATS.get(column.time_format or "", "ISO8601"))
        bad = list(np.flatnonzero(text.notna().to_numpy() & parsed.isna().to_numpy()))
        return bad, parsed
    if kind == "number":
        bad = [i for i, v in enumerate(values) if v is not None and not (
            (type(v) in ACCEPTED["number"]) or (type(v) is str and DECIMAL.fullmatch(v)))]
        if bad:
            return bad, pd.Series(values, dtype=object)
        return bad, pd.to_numeric(pd.Series(values, dtype=object)).astype("float64")
    accepted = ACCEPTED[kind]
    bad = [i for i, v in enumerate(values) if v is not None and type(v) not in accepted]
    if bad:
        return bad, pd.Series(values, dtype=object)
    dtype = {"integer": "Int64", "boolean": "boolean", "string": object}[kind]
    return bad, pd.Series(values, dtype=dtype)


def frame_from_records(rows: Iterable[tuple[int, dict]], contract: Contract) -> AuditFrame:
    """`rows` are (staged row number, record) pairs."""
    columns = {column.name: column for column in contract.columns}
    index, values, keys_seen = _collect(rows, contract, list(columns))
    mismatches: dict[str, TypeMismatch] = {}
    # A column is present if any record has it; an empty batch has every contract column.
    names = [n for n in columns if not index or n in keys_seen]
    names += sorted(key for key in values if key not in columns)
    data: dict[str, Any] = {}
    for name in names:
        column, kind = columns.get(name), _kind(columns[name]) if name in columns else "any"
        if column is None or kind == "any":
            data[name] = pd.Series(values[name], dtype=object)
            continue
        bad, data[name] = _bad_positions(values[name], kind, column)
        if bad:
            mismatches[name] = TypeMismatch(
                _expected(kind, column), count=len(bad), rows=[index[i] for i in bad],
                examples=[values[name][i] for i in bad[:MAX_EXAMPLES]],
            )
            data[name] = pd.Series(values[name], dtype=object)
    frame = pd.DataFrame({name: series.to_numpy() if isinstance(series, pd.Series) else series
                          for name, series in data.items()}, index=pd.Index(index, name="_row"))
    for name, series in data.items():  # keep extension dtypes (Int64, boolean, tz-aware)
        frame[name] = series.set_axis(frame.index)
    return AuditFrame(data=frame, keys_seen=keys_seen, mismatches=mismatches)


def read_staged(path: Path, batch_size: int = 50_000) -> Iterable[tuple[int, dict]]:
    """(row, record) pairs from a sealed staged batch, a Parquet row group at a time."""
    parquet = pq.ParquetFile(path)
    for chunk in parquet.iter_batches(batch_size=batch_size, columns=["_row", "record"]):
        loads = json.loads
        yield from zip(chunk.column(0).to_pylist(), map(loads, chunk.column(1).to_pylist()),
                       strict=True)


def frame_from_batch(path: Path, contract: Contract) -> AuditFrame:
    return frame_from_records(read_staged(path), contract)
