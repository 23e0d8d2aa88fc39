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
from contracts.base import Column, Contract

# JSON types (DuckDB's json_type) a value may arrive as, by the column's kind.
INTEGERS = ("BIGINT", "UBIGINT")
NUMBERS = (*INTEGERS, "DOUBLE")
RFC2822 = "%a, %d %b %Y %H:%M:%S %z"
SQL_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
             "string": "VARCHAR", "datetime": "TIMESTAMPTZ", "any": "VARCHAR"}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _types(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(literal(n) for n in names) + ")"


@dataclass(frozen=True)
class TypedColumn:
    """How one contract column is read out of `record`."""

    column: Column
    path: str  # JSON path into the record

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def kind(self) -> str:
        return column_kind(self.column)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]

    def _json_type(self) -> str:
        return f"json_type(record, {literal(self.path)})"

    def _text(self) -> str:
        return f"json_extract_string(record, {literal(self.path)})"

    def present(self) -> str:
        """The record has a non-null value for the field."""
        return f"coalesce({self._json_type()} <> 'NULL', false)"

    def exists(self) -> str:
        """The record has the field at all (null or not)."""
        return f"{self._json_type()} IS NOT NULL"

    def accepted(self) -> str:
        """The value is of a JSON type the column accepts (true for an absent or null one)."""
        kind, t = self.kind, self._json_type()
        if kind == "integer":
            ok = f"{t} IN {_types(INTEGERS)} AND TRY_CAST({self._text()} AS BIGINT) IS NOT NULL"
        elif kind == "boolean":
            ok = f"{t} = 'BOOLEAN'"
        elif kind == "string":
            ok = f"{t} = 'VARCHAR'"
        elif kind == "number":
            number = f"isfinite(TRY_CAST({self._text()} AS DOUBLE))"
            sent_as = {"string": ("VARCHAR",), "number": NUMBERS}.get(
                self.column.numbers_as, (*NUMBERS, "VARCHAR"))
            ok = f"{t} IN {_types(sent_as)} AND coalesce({number}, false)"
        elif kind == "datetime":
            ok = f"{t} = 'VARCHAR' AND ({self._text()} = '' OR {self._parsed()} IS NOT NULL)"
        else:
            return "true"
        return f"(NOT {self.present()} OR ({ok}))"

    def _parsed(self) -> str:
        text = self._text()
        if self.column.time_format == "rfc2822":
            return f"try_strptime({text}, {literal(RFC2822)})"
        return f"TRY_CAST({text} AS TIMESTAMPTZ)"

    def value(self) -> str:
        """The typed value, null where absent, null or of the wrong JSON type."""
        kind = self.kind
        if kind == "any":
            return f"CASE WHEN {self.present()} THEN json_extract(record, {literal(self.path)})" \
                   "::VARCHAR END"
        if kind == "datetime":
            typed = f"CASE WHEN {self._text()} <> '' THEN {self._parsed()} END"
        elif kind == "string":
            typed = self._text()
        else:
            typed = f"TRY_CAST({self._text()} AS {self.sql_type})"
        return f"CASE WHEN {self.present()} AND {self.accepted()} THEN {typed} END"

    def bad(self) -> str:
        return f"NOT {self.accepted()}"


def typed_columns(contract: Contract) -> list[TypedColumn]:
    paths = {name: "$." + ".".join(quote(p) for p in path.split("."))
             for name, path in contract.lift.items()}
    return [TypedColumn(column, paths.get(column.name, "$." + quote(column.name)))
            for column in contract.columns]


def typed_select(contract: Contract, source: str) -> str:
    """SELECT of the typed batch from `source` (a relation with `_row`, `_pk`, `record`)."""
    parts = ["_row", "_pk"]
    for column in typed_columns(contract):
        parts.append(f"{column.value()} AS {quote(column.name)}")
        parts.append(f"{column.bad()} AS {quote(column.name + '__bad')}")
    return f"SELECT {', '.join(parts)} FROM {source}"


def presence_select(contract: Contract, source: str) -> str:
    """One row: per column, records that have the field, and records with a non-null value."""
    parts = []
    for column in typed_columns(contract):
        parts.append(f"count(*) FILTER (WHERE {column.exists()})")
        parts.append(f"count(*) FILTER (WHERE {column.present()})")
    return f"SELECT count(*), {', '.join(parts)} FROM {source}"
