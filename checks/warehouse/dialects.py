"""The few SQL spellings the warehouse audit needs, for DuckDB and for BigQuery.

The audit's SQL is written once (`typed`, `rules`, `suite`, `audit`); what differs between the
two warehouses is only here: quoting, casts, regexes, conditional counts, and how a record's
JSON is taken apart. JSON types are named as DuckDB's `json_type` names them (`VARCHAR`,
`BIGINT`, `UBIGINT`, `DOUBLE`, `BOOLEAN`, `NULL`, `OBJECT`, `ARRAY`) on both.

BigQuery reads each field with the string JSON functions (`JSON_QUERY` on the STRING record
returns the field's JSON text, `JSON_VALUE` its scalar), and tells a JSON type from that text:
BigQuery's `JSON_TYPE` says only "number" (no integer), and the emulator answers DuckDB's names
instead of BigQuery's, so the text is the one reading both agree on.
"""

from __future__ import annotations

from dataclasses import dataclass

DUCKDB_TYPES = {"BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN",
                "VARCHAR": "VARCHAR", "TIMESTAMPTZ": "TIMESTAMPTZ"}
BIGQUERY_TYPES = {"BIGINT": "INT64", "DOUBLE": "FLOAT64", "BOOLEAN": "BOOL",
                  "VARCHAR": "STRING", "TIMESTAMPTZ": "TIMESTAMP"}


@dataclass(frozen=True)
class Dialect:
    name: str

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def literal(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def cast(self, expression: str, sql_type: str) -> str:
        return f"TRY_CAST({expression} AS {DUCKDB_TYPES[sql_type]})"

    def finite(self, expression: str) -> str:
        return f"isfinite({expression})"

    def parse_time(self, text: str, fmt: str) -> str:
        return f"try_strptime({text}, {self.literal(fmt)})"

    def regex(self, expression: str, pattern: str) -> str:
        return f"regexp_matches({expression}, {self.literal(pattern)})"

    def count_if(self, condition: str) -> str:
        return f"count(*) FILTER (WHERE {condition})"

    def timestamp(self, iso: str) -> str:
        return f"TIMESTAMPTZ {self.literal(iso)}"

    def extracted(self, source: str, paths: list[str], names: list[str]) -> str:
        """`_row`, `_pk` and each path's JSON value from `source`, parsing each record once."""
        listed = "[" + ", ".join(self.literal(p) for p in paths) + "]"
        values = ", ".join(f"__values[{i}] AS {self.quote(n)}"
                           for i, n in enumerate(names, start=1))
        return (f"SELECT _row, _pk, {values} FROM (SELECT _row, _pk, "
                f"json_extract(record, {listed}) AS __values FROM {source})")

    def json_type(self, value: str) -> str:
        return f"json_type({value})"

    def json_text(self, value: str) -> str:
        """A scalar JSON value as text: a string unquoted, a number as written."""
        return f"json_extract_string({value}, '$')"

    def json_raw(self, value: str) -> str:
        """The JSON value's own text (for a column of any type)."""
        return f"{value}::VARCHAR"

    def json_field(self, path: str) -> str:
        """The JSON text of one field of `record` (for the few mistyped values shown)."""
        return f"json_extract(record, {self.literal(path)})::VARCHAR"


@dataclass(frozen=True)
class BigQuery(Dialect):
    name: str = "bigquery"

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "\\`") + "`"

    def literal(self, text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def cast(self, expression: str, sql_type: str) -> str:
        return f"SAFE_CAST({expression} AS {BIGQUERY_TYPES[sql_type]})"

    def finite(self, expression: str) -> str:
        return f"(NOT IS_INF({expression}) AND NOT IS_NAN({expression}))"

    def parse_time(self, text: str, fmt: str) -> str:
        # The cast is a no-op on BigQuery; the emulator's PARSE_TIMESTAMP loses the time
        # zone without it, and GX then cannot compare the column with an aware bound.
        return f"SAFE_CAST(SAFE.PARSE_TIMESTAMP({self.literal(fmt)}, {text}) AS TIMESTAMP)"

    def regex(self, expression: str, pattern: str) -> str:
        return f"REGEXP_CONTAINS({expression}, {self.literal(pattern)})"

    def count_if(self, condition: str) -> str:
        return f"COUNTIF({condition})"

    def timestamp(self, iso: str) -> str:
        return f"TIMESTAMP {self.literal(iso)}"

    def extracted(self, source: str, paths: list[str], names: list[str]) -> str:
        values = ", ".join(f"JSON_QUERY(record, {self.literal(p)}) AS {self.quote(n)}"
                           for p, n in zip(paths, names, strict=True))
        return f"SELECT _row, _pk, {values} FROM {source}"

    def json_type(self, value: str) -> str:
        return (f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} = 'null' THEN 'NULL' "
                f"WHEN STARTS_WITH({value}, '\"') THEN 'VARCHAR' "
                f"WHEN {value} IN ('true', 'false') THEN 'BOOLEAN' "
                f"WHEN STARTS_WITH({value}, '{{') THEN 'OBJECT' "
                f"WHEN STARTS_WITH({value}, '[') THEN 'ARRAY' "
                f"WHEN REGEXP_CONTAINS({value}, r'^-?[0-9]+$') THEN 'BIGINT' ELSE 'DOUBLE' END")

    def json_text(self, value: str) -> str:
        return f"JSON_VALUE({value})"

    def json_raw(self, value: str) -> str:
        return value  # already the JSON text

    def json_field(self, path: str) -> str:
        return f"JSON_QUERY(record, {self.literal(path)})"


DUCKDB = Dialect("duckdb")
BIGQUERY = BigQuery()
