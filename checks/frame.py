"""From staged JSON records to the DataFrame the audits read, typed by the contract.

Each record's top-level fields become columns and the staged row number (`_row`) the index,
so every failure found later points back at one staged row. Values are converted by the
contract's column types, but only from the JSON type that type expects: a number sent as a
string is not silently coerced, it is a *type mismatch*. The mismatched value is left out of
the typed column (null) and its staged row recorded, so the schema audit quarantines exactly
that row with rule `dtype` and audits the rest; only a column wrong in every record means the
source changed shape. Float columns take the JSON type the contract says they arrive as
(`numbers_as`: decimal strings in v2, numbers in v3). Date columns are parsed from the format
the contract names (ISO-8601 or RFC-2822); an empty string there means "no date".

The work is done a column at a time (type tests as comprehensions, dates parsed by pandas in
one call), because a per-value loop in Python costs more than the audits themselves.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator
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
CHUNK_ROWS = 50_000
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
    present: int = 0  # values the column has at all (not null) across the batch
    rows: list[int] = field(default_factory=list)
    examples: list[Any] = field(default_factory=list)

    @property
    def wholesale(self) -> bool:
        """Every value the column has is of the wrong type: the source changed its shape."""
        return self.count == self.present


@dataclass
class AuditFrame:
    data: pd.DataFrame
    keys_seen: set[str]
    mismatches: dict[str, TypeMismatch]

    @property
    def rows(self) -> int:
        return len(self.data)


def column_kind(column: Column) -> str:
    """How the frame reads a contract column: which JSON values it accepts, and as what."""
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


def expected_type(kind: str, column: Column) -> str:
    if kind == "datetime":
        return f"a {column.time_format or 'native'} date string"
    if kind == "number":
        return {"string": "a decimal string", "number": "a JSON number"}.get(
            column.numbers_as, "a number or a decimal string")
    return f"a JSON {kind}"


def _lifted(record: dict, lift: Any) -> dict:
    record = dict(record)
    for name, path in lift.items():
        value: Any = record
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        record[name] = value
    return record


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


def _flags(values: list[Any], test: Any) -> np.ndarray:
    return np.fromiter((test(v) for v in values), dtype=bool, count=len(values))


def _convert(values: list[Any], kind: str,
             column: Column) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Which values are present, which of them have the wrong JSON type, and the column
    converted for the audits with the wrong ones left null."""
    present = _flags(values, lambda v: v is not None)
    if kind == "datetime":
        nonempty = present & _flags(values, lambda v: v != "")
        parsed = _dates(values, column.time_format)
        return present, np.flatnonzero(nonempty & parsed.isna().to_numpy()), parsed
    if kind == "number":
        numbers = _numbers(values)
        wrong = ~np.isfinite(numbers.to_numpy()) | _flags(values, lambda v: type(v) is bool)
        if column.numbers_as == "number":
            wrong |= _flags(values, lambda v: type(v) is str)
        elif column.numbers_as == "string":
            wrong |= _flags(values, lambda v: type(v) in (int, float))
        bad = np.flatnonzero(present & wrong)
        if len(bad):
            numbers = numbers.copy()  # Arrow's cast may hand back a read-only buffer
            numbers.iloc[bad] = np.nan
        return present, bad, numbers
    accepted = ACCEPTED[kind]
    bad = np.flatnonzero(present & ~_flags(values, lambda v: type(v) in accepted))
    if len(bad):
        values = list(values)
        for i in bad:
            values[i] = None
    dtype = {"integer": "Int64", "boolean": "boolean", "string": object}[kind]
    return present, bad, pd.Series(values, dtype=dtype)


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


def _chunks(rows: Iterable[tuple[int, dict]], size: int) -> Iterator[list[tuple[int, dict]]]:
    chunk: list[tuple[int, dict]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _frame(rows: Iterable[tuple[int, dict]], contract: Contract,
           columns: dict[str, Column]) -> AuditFrame:
    """Converted a chunk of records at a time, so parsed records (and the strings of numbers
    and dates) are freed as soon as their typed columns exist."""
    parts: dict[str, dict[int, pd.Series]] = {}
    sizes: list[int] = []
    index: list[int] = []
    keys_seen: set[str] = set()
    mismatches: dict[str, TypeMismatch] = {}
    for number, chunk in enumerate(_chunks(rows, CHUNK_ROWS)):
        records = [_lifted(r, contract.lift) if contract.lift else r for _, r in chunk]
        chunk_keys = set().union(*records)
        keys_seen |= chunk_keys
        for name in [*columns, *sorted(chunk_keys - set(columns))]:
            values = [record.get(name) for record in records]
            parts.setdefault(name, {})[number] = _column(
                name, values, columns.get(name), index_of=chunk, found=mismatches)
        sizes.append(len(chunk))
        index += [row for row, _ in chunk]
    # A column is present if any record has it; an empty batch has every contract column.
    names = [n for n in columns if not index or n in keys_seen]
    names += sorted(keys_seen - set(columns))
    row_index = pd.Index(index, name="_row")
    data = {name: _joined(parts.get(name, {}), sizes).set_axis(row_index) for name in names}
    frame = pd.DataFrame(data, index=row_index)
    mismatches = {name: miss for name, miss in mismatches.items() if miss.count}
    return AuditFrame(data=frame, keys_seen=keys_seen, mismatches=mismatches)


def _column(name: str, values: list[Any], column: Column | None, *,
            index_of: list[tuple[int, dict]], found: dict[str, TypeMismatch]) -> pd.Series:
    """One chunk of one column, typed; values of the wrong JSON type are recorded in `found`
    (with their staged rows) and left null in the typed column."""
    kind = column_kind(column) if column is not None else "any"
    if column is None or kind == "any":
        return pd.Series(values, dtype=object)
    present, bad, converted = _convert(values, kind, column)
    miss = found.setdefault(name, TypeMismatch(expected_type(kind, column)))
    miss.present += int(present.sum())
    miss.count += len(bad)
    miss.rows += [index_of[i][0] for i in bad]
    miss.examples += [values[i] for i in bad[: MAX_EXAMPLES - len(miss.examples)]]
    return converted


def _joined(parts: dict[int, pd.Series], sizes: list[int]) -> pd.Series:
    """The chunks of one column end to end; a chunk without the field is all null."""
    pieces = [parts[n] if n in parts else pd.Series([None] * size, dtype=object)
              for n, size in enumerate(sizes)]
    if not pieces:
        return pd.Series([], dtype=object)
    joined = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
    return joined.reset_index(drop=True)


def read_staged(path: Path, batch_size: int = 50_000) -> Iterable[tuple[int, dict]]:
    """(row, record) pairs from a sealed staged batch, a Parquet row group at a time."""
    parquet = pq.ParquetFile(path)
    for chunk in parquet.iter_batches(batch_size=batch_size, columns=["_row", "record"]):
        loads = json.loads
        yield from zip(chunk.column(0).to_pylist(), map(loads, chunk.column(1).to_pylist()),
                       strict=True)


def frame_from_batch(path: Path, contract: Contract) -> AuditFrame:
    return frame_from_records(read_staged(path), contract)
