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

import gc
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from contracts.base import Column, Contract

MAX_EXAMPLES = 5
# The weekday an RFC-2822 date starts with, dropped before parsing (the date says it anyway).
RFC2822_DAY = r"^[A-Za-z]{3}, "
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# Which Python types a column's JSON values may have, by the contract's dtype.
ACCEPTED = {"integer": (int,), "boolean": (bool,), "string": (str,)}


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


def _rfc2822_as_iso(text: pd.Series) -> pd.Series:
    """"Mon, 02 Nov 2026 06:04:02 +0000" -> "2026-11-02T06:04:02+0000", in Arrow's kernels."""
    strings = pa.array(text, type=pa.string())

    def cut(start: int, stop: int) -> pa.Array:
        return pc.utf8_slice_codeunits(strings, start, stop)

    month = pc.add(pc.index_in(cut(8, 11), value_set=pa.array(MONTHS)), 1)
    month = pc.utf8_lpad(pc.cast(month, pa.string()), 2, "0")
    iso = pc.binary_join_element_wise(cut(12, 16), "-", month, "-", cut(5, 7), "T",
                                      cut(17, 25), cut(26, 31), "")
    return pd.Series(iso.to_pandas(), index=text.index, dtype=object)


def _dates(values: list[Any], fmt: str | None) -> pd.Series:
    """Parse a date column in one call, through pandas' fast ISO-8601 path.

    BigCommerce's RFC-2822 dates are fixed-width ("Mon, 02 Nov 2026 06:04:02 +0000"), so they
    are re-cut into ISO-8601 first; any that do not fit that shape are parsed the slow way.
    """
    text = pd.Series([v if isinstance(v, str) and v else None for v in values], dtype=object)
    if fmt != "rfc2822":
        return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    parsed = pd.to_datetime(_rfc2822_as_iso(text), utc=True, errors="coerce", format="ISO8601")
    odd = parsed.isna() & text.notna()
    if odd.any():
        parsed[odd] = pd.to_datetime(text[odd].str.replace(RFC2822_DAY, "", regex=True),
                                     utc=True, errors="coerce", format="%d %b %Y %H:%M:%S %z")
    return parsed


def _numbers(values: list[Any]) -> pd.Series:
    """Floats from JSON numbers or decimal strings; NaN where a value is neither."""
    types = {type(v) for v in values} - {type(None)}
    if types == {str}:  # money as decimal strings: Arrow's cast is ten times pandas'
        try:
            return pd.Series(pc.cast(pa.array(values, type=pa.string()), pa.float64())
                             .to_numpy(zero_copy_only=False))
        except pa.ArrowInvalid:
            pass  # some value is not a number: the slow path below finds which
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("float64")


def _convert(values: list[Any], kind: str, column: Column) -> tuple[np.ndarray, pd.Series]:
    """Positions of values of the wrong JSON type, and the column converted for the audits."""
    present = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    if kind == "datetime":
        nonempty = present & np.fromiter((v != "" for v in values), dtype=bool,
                                         count=len(values))
        parsed = _dates(values, column.time_format)
        return np.flatnonzero(nonempty & parsed.isna().to_numpy()), parsed
    if kind == "number":
        numbers = _numbers(values)
        wrong = ~np.isfinite(numbers.to_numpy()) | np.fromiter(
            (type(v) is bool for v in values), dtype=bool, count=len(values))
        return np.flatnonzero(present & wrong), numbers
    accepted = ACCEPTED[kind]
    typed = np.fromiter((type(v) in accepted for v in values), dtype=bool, count=len(values))
    bad = np.flatnonzero(present & ~typed)
    dtype = {"integer": "Int64", "boolean": "boolean", "string": object}[kind]
    return bad, pd.Series(values, dtype=object if len(bad) else dtype)


def frame_from_records(rows: Iterable[tuple[int, dict]], contract: Contract) -> AuditFrame:
    """`rows` are (staged row number, record) pairs."""
    columns = {column.name: column for column in contract.columns}
    # Millions of short-lived objects and no cycles: the cyclic GC would rescan them for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _frame(rows, contract, columns)
    finally:
        if collecting:
            gc.enable()


def _frame(rows: Iterable[tuple[int, dict]], contract: Contract,
           columns: dict[str, Column]) -> AuditFrame:
    index, values, keys_seen = _collect(rows, contract, list(columns))
    mismatches: dict[str, TypeMismatch] = {}
    # A column is present if any record has it; an empty batch has every contract column.
    names = [n for n in columns if not index or n in keys_seen]
    names += sorted(key for key in values if key not in columns)
    data: dict[str, pd.Series] = {}
    row_index = pd.Index(index, name="_row")
    for name in names:
        column = columns.get(name)
        kind = _kind(column) if column is not None else "any"
        column_values = values.pop(name)
        series = None
        if column is not None and kind != "any":
            bad, converted = _convert(column_values, kind, column)
            if len(bad):
                mismatches[name] = TypeMismatch(
                    _expected(kind, column), count=len(bad), rows=[index[i] for i in bad],
                    examples=[column_values[i] for i in bad[:MAX_EXAMPLES]],
                )
            else:
                series = converted
        if series is None:  # nested values, unknown fields, or a column of the wrong type
            series = pd.Series(column_values, dtype=object)
        data[name] = series.set_axis(row_index)
    frame = pd.DataFrame(data, index=row_index)
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
