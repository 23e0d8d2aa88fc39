"""The Pandera contract's checks compiled into SQL predicates, one per rule.

Pandera stays the judge: every rule here is read from the contract's own `DataFrameModel`
(`Check.name` and `Check.statistics` of each column check, `nullable`, `unique`, and the
model's dataframe checks), never written a second time. Pandera's Ibis backend runs the same
checks on a warehouse but cannot name the failing rows, skips column-level `unique`, and does
not coerce (docs/contracts.md, "Where the audit runs"), so the checks are compiled here into
predicates that return exactly the staged rows (`_row`) failing each rule.

A column check whose name has no compiler here, or a dataframe check that does not carry its
SQL (`statistics={"sql": ...}`, a predicate over the typed columns that is true for a good
row), cannot be pushed down: `compile_rules` raises `ContractError` naming the table and the
rule, and it runs when the definitions load (`checks.contract_check_specs`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from checks.warehouse.dialects import DUCKDB, Dialect
from contracts.base import Contract, ContractError

NOT_NULLABLE = "not_nullable"
UNIQUE = "field_uniqueness"


@dataclass(frozen=True)
class Rule:
    """One rule as SQL: `failing` is a condition true of exactly the rows that break it."""

    name: str  # as Pandera reports it: "greater_than_or_equal_to(1)", "not_nullable", ...
    column: str | None
    failing: str


def _value(value: Any, d: Dialect) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value} has no SQL literal")
        return repr(value)
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return d.timestamp(stamp.isoformat())
    if isinstance(value, str):
        return d.literal(value)
    raise ValueError(f"{value!r} ({type(value).__name__}) has no SQL literal")


def _values(values: Any, d: Dialect) -> str:
    return "(" + ", ".join(_value(v, d) for v in values) + ")"


def _length(c: str, s: dict[str, Any], d: Dialect) -> str:
    if s.get("exact_value") is not None:
        return f"length({c}) = {int(s['exact_value'])}"
    bounds = [f"length({c}) >= {int(s['min_value'])}" if s.get("min_value") is not None else "",
              f"length({c}) <= {int(s['max_value'])}" if s.get("max_value") is not None else ""]
    return " AND ".join(b for b in bounds if b) or "true"


def _in_range(c: str, s: dict[str, Any], d: Dialect) -> str:
    low = ">=" if s.get("include_min", True) else ">"
    high = "<=" if s.get("include_max", True) else "<"
    return f"{c} {low} {_value(s['min_value'], d)} AND {c} {high} {_value(s['max_value'], d)}"


# Pandera check name -> the predicate a good value satisfies, from the check's statistics.
PREDICATES: dict[str, Callable[[str, dict[str, Any], Dialect], str]] = {
    "greater_than_or_equal_to": lambda c, s, d: f"{c} >= {_value(s['min_value'], d)}",
    "greater_than": lambda c, s, d: f"{c} > {_value(s['min_value'], d)}",
    "less_than_or_equal_to": lambda c, s, d: f"{c} <= {_value(s['max_value'], d)}",
    "less_than": lambda c, s, d: f"{c} < {_value(s['max_value'], d)}",
    "equal_to": lambda c, s, d: f"{c} = {_value(s['value'], d)}",
    "not_equal_to": lambda c, s, d: f"{c} <> {_value(s['value'], d)}",
    "in_range": _in_range,
    "isin": lambda c, s, d: f"{c} IN {_values(s['allowed_values'], d)}",
    "notin": lambda c, s, d: f"{c} NOT IN {_values(s['forbidden_values'], d)}",
    # Pandera's str_matches is re.match: anchored at the start, not at the end.
    "str_matches": lambda c, s, d: d.regex(c, "^(?:" + s["pattern"] + ")"),
    "str_contains": lambda c, s, d: d.regex(c, s["pattern"]),
    "str_startswith": lambda c, s, d: f"starts_with({c}, {d.literal(s['string'])})",
    "str_endswith": lambda c, s, d: f"ends_with({c}, {d.literal(s['string'])})",
    "str_length": _length,
}


def _column_rules(contract: Contract, name: str, column: Any, d: Dialect) -> list[Rule]:
    c = d.quote(name)
    rules = []
    if not column.nullable:
        rules.append(Rule(NOT_NULLABLE, name, f"{c} IS NULL"))
    if column.unique:
        rules.append(Rule(UNIQUE, name,
                          f"{c} IS NOT NULL AND count(*) OVER (PARTITION BY {c}) > 1"))
    for check in column.checks:
        compile_predicate = PREDICATES.get(check.name)
        if compile_predicate is None:
            raise ContractError(f"contract {contract.qualified_name}: rule {check.name} on "
                                f"column {name!r} cannot run in the warehouse (no SQL for it)")
        try:
            predicate = compile_predicate(c, dict(check.statistics or {}), d)
        except (KeyError, ValueError) as error:
            raise ContractError(f"contract {contract.qualified_name}: rule "
                                f"{check.error or check.name} on column {name!r} cannot run "
                                f"in the warehouse: {error}") from error
        # Pandera's checks skip nulls (ignore_na); a null is `not_nullable`'s business.
        rules.append(Rule(check.error or check.name, name,
                          f"{c} IS NOT NULL AND NOT ({predicate})"))
    return rules


def compile_rules(contract: Contract, dialect: Dialect = DUCKDB) -> list[Rule]:
    """Every rule of the contract's Pandera model as SQL over the typed batch."""
    schema = contract.schema
    rules = [rule for name, column in schema.columns.items()
             for rule in _column_rules(contract, name, column, dialect)]
    for check in schema.checks:
        sql = (check.statistics or {}).get("sql")
        if not sql:
            raise ContractError(
                f"contract {contract.qualified_name}: dataframe check {check.name} carries no "
                "SQL, so it cannot run in the warehouse: give it statistics={'sql': ...}")
        # A row check's pandas form treats a null as failing (fillna(False)); so does this.
        rules.append(Rule(check.name, None, f"NOT coalesce(({sql}), false)"))
    if schema.unique:
        names = [schema.unique] if isinstance(schema.unique, str) else list(schema.unique)
        keys = ", ".join(dialect.quote(n) for n in names)
        rules.append(Rule("multiple_fields_uniqueness", ",".join(names),
                          f"count(*) OVER (PARTITION BY {keys}) > 1"))
    return rules
