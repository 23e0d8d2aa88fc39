"""From staged JSON records to the DataFrame the audits read, typed by the contract.

Each record's top-level fields become columns and the staged row number (`_row`) the index,
so every failure found later points back at one staged row. Values are converted by the
contract's column types, but only from the JSON type that type expects: a number sent as a
string is not silently coerced, it is a *type mismatch*, which the schema audit reports (and
which blocks the batch, since the source changed shape). Date columns are parsed from the
format the contract names (ISO-8601 or RFC-2822); an empty string there means "no date".
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from contracts.base import Column, Contract
from contracts.formats import parse_time

MAX_EXAMPLES = 5


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
    keys_seen: Counter
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


def _convert(value: Any, kind: str, column: Column) -> tuple[bool, Any]:
    """(accepted, converted value) for one non-null JSON value."""
    if kind == "any":
        return True, value
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind == "boolean":
        return isinstance(value, bool), value
    if kind == "string":
        return isinstance(value, str), value
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True, float(value)
        if column.time_format is None and isinstance(value, str):
            try:  # money arrives as decimal strings ("405300.0000"): exact, then float
                return True, float(Decimal(value))
            except InvalidOperation:
                return False, value
        return False, value
    if isinstance(value, str) and column.time_format:  # datetime
        try:
            return True, parse_time(value, column.time_format)
        except ValueError:
            return False, value
    return isinstance(value, datetime), value


def _expected(kind: str, column: Column) -> str:
    if kind == "datetime":
        return f"a {column.time_format or 'native'} date string"
    if kind == "number":
        return "a number or a decimal string"
    return f"a JSON {kind}"


def frame_from_records(rows: Iterable[tuple[int, dict]], contract: Contract) -> AuditFrame:
    """`rows` are (staged row number, record) pairs."""
    columns = {column.name: column for column in contract.columns}
    kinds = {name: _kind(column) for name, column in columns.items()}
    values: dict[str, dict[int, Any]] = defaultdict(dict)
    keys_seen: Counter = Counter()
    mismatches: dict[str, TypeMismatch] = {}
    index: list[int] = []
    for row, record in rows:
        index.append(row)
        record = _lifted(record, contract.lift)
        keys_seen.update(record.keys())
        for key, value in record.items():
            column = columns.get(key)
            if column is not None and column.time_format and value == "":
                value = None
            if value is not None and column is not None:
                accepted, value = _convert(value, kinds[key], column)
                if not accepted:
                    miss = mismatches.setdefault(key, TypeMismatch(_expected(kinds[key], column)))
                    miss.count += 1
                    miss.rows.append(row)
                    if len(miss.examples) < MAX_EXAMPLES:
                        miss.examples.append(value)
            values[key][row] = value
    # A column is present if any record has it; an empty batch has every contract column.
    names = list(columns) if not index else [n for n in columns if n in keys_seen]
    names += sorted(key for key in keys_seen if key not in columns)
    data = pd.DataFrame(
        {name: pd.Series(values.get(name, {}), index=index, dtype=object) for name in names},
        index=pd.Index(index, name="_row"),
    )
    return AuditFrame(data=_typed(data, columns, mismatches), keys_seen=keys_seen,
                      mismatches=mismatches)


def _lifted(record: dict, lift: dict[str, str] | Any) -> dict:
    if not lift:
        return record
    record = dict(record)
    for name, path in lift.items():
        value: Any = record
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        record[name] = value
    return record


def _typed(data: pd.DataFrame, columns: dict[str, Column], mismatches: dict) -> pd.DataFrame:
    """Give each clean column its pandas type, so the audits compare numbers and dates as such.

    Columns with a type mismatch stay `object`; the schema audit blocks on them anyway.
    """
    for name in data.columns:
        column = columns.get(name)
        if column is None or name in mismatches:
            continue
        kind = _kind(column)
        series = data[name]
        if kind == "integer":
            data[name] = series.astype("Int64")
        elif kind == "number":
            data[name] = pd.to_numeric(series, errors="coerce").astype("float64")
        elif kind == "boolean":
            data[name] = series.astype("boolean")
        elif kind == "datetime":
            data[name] = pd.to_datetime(series, utc=True)
    return data


def read_staged(path: Path, batch_size: int = 50_000) -> Iterable[tuple[int, dict]]:
    """(row, record) pairs from a sealed staged batch, a Parquet row group at a time."""
    parquet = pq.ParquetFile(path)
    for chunk in parquet.iter_batches(batch_size=batch_size, columns=["_row", "record"]):
        for row, record in zip(chunk.column(0).to_pylist(), chunk.column(1).to_pylist(),
                               strict=True):
            yield row, json.loads(record)


def frame_from_batch(path: Path, contract: Contract) -> AuditFrame:
    return frame_from_records(read_staged(path), contract)
