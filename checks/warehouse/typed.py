"""The staged batch typed by its contract, in SQL: the warehouse audit's one parse of `record`.

The same reading as the in-memory frame (`checks.frame`), written as one SELECT over the
staged rows: each contract column is taken from the record's JSON, accepted only from the JSON
type its dtype expects (a number sent as a string is a type mismatch, not coerced), and a flag
column `<name>__bad` marks the rows whose value had the wrong type; the typed value is then
null. Dates are parsed from the format the contract names; an empty string is "no date".

`present` counts how many records carry the field at all: a field no record has is a missing
column, and one whose every value is mistyped means the source changed shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.frame import column_kind
from checks.warehouse.dialects import DUCKDB, Dialect
from contracts.base import Column, Contract

# JSON types (as DuckDB's json_type names them, `checks.warehouse.dialects`) a value may
# arrive as, by the column's kind.
INTEGERS = ("BIGINT", "UBIGINT")
NUMBERS = (*INTEGERS, "DOUBLE")
RFC2822 = "%a, %d %b %Y %H:%M:%S %z"
SQL_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
             "string": "VARCHAR", "datetime": "TIMESTAMPTZ", "any": "VARCHAR"}


def quote(name: str) -> str:
    return DUCKDB.quote(name)


def literal(text: str) -> str:
    return DUCKDB.literal(text)


def _types(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(DUCKDB.literal(n) for n in names) + ")"


@dataclass(frozen=True)
class TypedColumn:
    """How one contract column is read out of its extracted JSON value."""

    column: Column
    path: str  # JSON path into the record
    position: int  # 1-based, among the values extracted from each record at once
    dialect: Dialect = DUCKDB

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def kind(self) -> str:
        return column_kind(self.column)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]

    @property
    def json(self) -> str:
        """The column's JSON value in the extracted relation (SQL NULL if the key is absent)."""
        return self.dialect.quote(f"__json_{self.position}")

    # Each value's JSON type, text and conversion are computed once, in the projections
    # `typed_select` stacks, and named here: written inline, every use parsed the small JSON
    # value again and parsed a date twice: typing a million orders took 24.5 s, not 20.2
    # (docs/benchmarks.md, "Scale").
    def json_type(self) -> str:
        return self.dialect.quote(f"__type_{self.position}")

    def _text(self) -> str:
        return self.dialect.quote(f"__text_{self.position}")

    def _converted(self) -> str:
        return self.dialect.quote(f"__converted_{self.position}")

    def read(self) -> list[str]:
        """The JSON type and text of the value (the second projection)."""
        return [f"{self.dialect.json_type(self.json)} AS {self.json_type()}",
                f"{self.dialect.json_text(self.json)} AS {self._text()}"]

    def convert(self) -> str:
        """The text converted to the column's type, null where it does not convert (the
        third projection); whether the JSON type was right is `accepted`'s question."""
        kind, text = self.kind, self._text()
        if kind == "any":
            converted = self.dialect.json_raw(self.json)
        elif kind == "datetime":
            if self.column.time_format == "rfc2822":
                converted = self.dialect.parse_time(text, RFC2822)
            else:
                converted = self.dialect.cast(text, "TIMESTAMPTZ")
        elif kind == "string":
            converted = text
        else:
            converted = self.dialect.cast(text, self.sql_type)
        return f"{converted} AS {self._converted()}"

    def present(self) -> str:
        """The record has a non-null value for the field."""
        return f"coalesce({self.json_type()} <> 'NULL', false)"

    def accepted(self) -> str:
        """The value is of a JSON type the column accepts (true for an absent or null one)."""
        kind, t, d, converted = self.kind, self.json_type(), self.dialect, self._converted()
        if kind == "integer":
            ok = f"{t} IN {_types(INTEGERS)} AND {converted} IS NOT NULL"
        elif kind == "boolean":
            ok = f"{t} = 'BOOLEAN'"
        elif kind == "string":
            ok = f"{t} = 'VARCHAR'"
        elif kind == "number":
            sent_as = {"string": ("VARCHAR",), "number": NUMBERS}.get(
                self.column.numbers_as, (*NUMBERS, "VARCHAR"))
            ok = f"{t} IN {_types(sent_as)} AND coalesce({d.finite(converted)}, false)"
        elif kind == "datetime":
            ok = f"{t} = 'VARCHAR' AND ({self._text()} = '' OR {converted} IS NOT NULL)"
        else:
            return "true"
        return f"(NOT {self.present()} OR ({ok}))"

    def value(self) -> str:
        """The typed value, null where absent, null or of the wrong JSON type."""
        kind, converted = self.kind, self._converted()
        if kind == "any":
            return f"CASE WHEN {self.present()} THEN {converted} END"
        if kind == "datetime":
            converted = f"CASE WHEN {self._text()} <> '' THEN {converted} END"
        return f"CASE WHEN {self.present()} AND {self.accepted()} THEN {converted} END"

    def bad(self) -> str:
        return f"NOT {self.accepted()}"


def typed_columns(contract: Contract, dialect: Dialect = DUCKDB) -> list[TypedColumn]:
    paths = {name: "$." + ".".join(quote(p) for p in path.split("."))
             for name, path in contract.lift.items()}
    return [TypedColumn(column, paths.get(column.name, "$." + quote(column.name)), i, dialect)
            for i, column in enumerate(contract.columns, start=1)]


def typed_select(contract: Contract, source: str, dialect: Dialect = DUCKDB) -> str:
    """SELECT of the typed batch from `source` (a relation with `_row`, `_pk`, `record`).
    Each column is typed from its own small JSON value, taken out of the record once
    (`Dialect.extracted`), read once for its JSON type and text, and converted once. Per
    column the result has the value, `<name>__bad` (wrong JSON type) and `<name>__json_type`
    (the value's JSON type; null when the record lacks the key), so the counts of records that
    carry the field need no second parse.
    """
    columns = typed_columns(contract, dialect)
    if not columns:
        return f"SELECT _row, _pk FROM {source}"
    q = dialect.quote
    extracted = dialect.extracted(source, [c.path for c in columns],
                                  [f"__json_{c.position}" for c in columns])
    read = ", ".join(["_row", "_pk", *(c.json for c in columns),
                      *(part for c in columns for part in c.read())])
    converted = ", ".join(["*", *(c.convert() for c in columns)])
    parts = ["_row", "_pk"]
    for column in columns:
        parts.append(f"{column.value()} AS {q(column.name)}")
        parts.append(f"{column.bad()} AS {q(column.name + '__bad')}")
        parts.append(f"{column.json_type()} AS {q(column.name + '__json_type')}")
    return (f"SELECT {', '.join(parts)} FROM (SELECT {converted} FROM "
            f"(SELECT {read} FROM ({extracted})))")


def presence_select(contract: Contract, typed: str, dialect: Dialect = DUCKDB) -> str:
    """One row over the typed batch: its rows and, per column, records that have the field
    and records with a non-null value."""
    parts = []
    for column in typed_columns(contract, dialect):
        kind = dialect.quote(column.name + "__json_type")
        parts.append(f"count({kind})")
        parts.append(dialect.count_if(f"{kind} <> 'NULL'"))
    return f"SELECT count(*){''.join(', ' + p for p in parts)} FROM {typed}"
