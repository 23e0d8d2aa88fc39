"""What a contract is: a Pandera model (the columns and their rules) bound to its governance.

A source table's contract is written once, in one module under `contracts/<source>/`:

- the Pandera `DataFrameModel` is the schema: every column's type, nullability, uniqueness,
  ranges, formats and allowed values, with a description, and `metadata={"pii": <class>}` on
  each column that holds personal data (`metadata={"format": "rfc2822"}` on a date column the
  source does not send as ISO-8601);
- the `Contract` names the table in the raw zone, its owner, primary key, modification-time
  column, how many rows may be quarantined before the whole batch is blocked, and the Great
  Expectations suite for what types cannot say (written as plain `Expectation`s, so reading a
  contract never imports GX). `derived` adds columns computed for the suite with
  `DataFrame.eval` (an order's total gap); `lift` copies a nested field up into its own column
  (`{"variant_id": "identity.variant_id"}`) so rules and keys can reach it.

Everything else (the Dagster column schema, the dbt sources, lineage facets, masking) is
derived from it. `Contract.__post_init__` checks the binding, so a broken contract fails when
the definitions load, naming the table and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandera.pandas as pa

PiiClass = Literal["email", "phone", "name", "address", "ip", "free_text"]
PII_CLASSES: frozenset[str] = frozenset(PiiClass.__args__)  # type: ignore[attr-defined]
TIME_FORMATS = frozenset({"iso8601", "rfc2822"})

OnFailure = Literal["quarantine", "block", "warn"]
NumbersAs = Literal["string", "number", "either"]
NUMBERS_AS: frozenset[str] = frozenset(NumbersAs.__args__)  # type: ignore[attr-defined]


class ContractError(ValueError):
    """A contract definition that cannot work; the message names the table and the field."""


@dataclass(frozen=True)
class Owner:
    """Who answers for the table's data: a team and a mailbox."""

    team: str
    email: str

    @property
    def dagster_owners(self) -> list[str]:
        return [f"team:{self.team}", self.email]


@dataclass(frozen=True)
class Freshness:
    """How old the published table may grow before someone should look: past `warn_after_hours`
    a run is late, past `error_after_hours` one is missing. Derived from how often the source
    changes and how often the schedules read it; drives the extraction asset's Dagster
    `FreshnessPolicy` and dbt's source freshness."""

    warn_after_hours: float
    error_after_hours: float

    def __post_init__(self) -> None:
        if not 0 < self.warn_after_hours <= self.error_after_hours:
            raise ContractError(f"freshness: need 0 < warn ({self.warn_after_hours} h) <= "
                                f"error ({self.error_after_hours} h)")


# Read once a day (the 03:00 KST run): a day and a bit is late, two hours more is missing.
DAILY = Freshness(warn_after_hours=25, error_after_hours=26)
# Read every hour (stock for the notifications).
HOURLY = Freshness(warn_after_hours=1.5, error_after_hours=2)


@dataclass(frozen=True)
class Relation:
    """This table's `column` names a row of `parent` (`source.table`) by its primary key, so
    the two publish together: a quarantined line holds its order back, with the order's other
    lines (invariant 11). Checked across contracts when they load (`contracts.relations`)."""

    column: str
    parent: str


@dataclass(frozen=True)
class Recent:
    """An expectation argument meaning "`hours` before the audit runs" (for freshness)."""

    hours: float


@dataclass(frozen=True)
class Expectation:
    """One Great Expectations expectation, by its snake-case name and arguments.

    `on_failure` says what a failure does: `quarantine` the rows it names (row-level
    expectations), `block` the whole batch (batch-level ones: row counts, freshness), or
    only `warn`. `why` is for the steward reading the suite.
    """

    type: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    on_failure: OnFailure = "quarantine"
    why: str = ""

    @property
    def column(self) -> str | None:
        column = self.kwargs.get("column")
        if column is None and "column_A" in self.kwargs:
            column = f"{self.kwargs['column_A']},{self.kwargs['column_B']}"
        return column

    @property
    def columns(self) -> list[str]:
        """Every column the expectation reads."""
        names = [self.kwargs.get(key) for key in ("column", "column_A", "column_B")]
        names += list(self.kwargs.get("column_list", ()))
        return [name for name in names if name]


@dataclass(frozen=True)
class Column:
    """One contract column as the rest of the platform sees it (derived from the model)."""

    name: str
    dtype: str
    description: str
    nullable: bool
    unique: bool
    pii: str | None
    time_format: str | None
    rules: tuple[str, ...]
    numbers_as: str = "either"  # for a float column: the JSON type its values arrive as


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per table
class Contract:
    """A source table's contract; see the module docstring."""

    source: str
    table: str
    model: type[pa.DataFrameModel]
    owner: Owner
    primary_key: str
    modified_column: str | None = None
    max_quarantine_fraction: float = 0.05
    expectations: tuple[Expectation, ...] = ()
    derived: Mapping[str, str] = field(default_factory=dict)
    lift: Mapping[str, str] = field(default_factory=dict)
    freshness: Freshness = DAILY
    # The JSON type a `float` column's values arrive as: "string" (v2 money, "336.3200"),
    # "number" (v3), or "either" (PostgreSQL numerics, staged as decimal strings, beside
    # floats). A column's `metadata={"json": ...}` overrides it. Any other type is a `dtype`
    # finding for that row.
    numbers_as: NumbersAs = "either"
    parents: tuple[Relation, ...] = ()

    def __post_init__(self) -> None:
        where = f"contract {self.qualified_name} ({self.model.__name__})"
        try:
            schema = self.model.to_schema()
        except Exception as error:  # pandera raises several types for a bad model
            raise ContractError(f"{where}: the Pandera model does not build: {error}") from error
        columns = schema.columns
        roles = (("primary_key", self.primary_key), ("modified_column", self.modified_column))
        for role, name in roles:
            if name is not None and name not in columns:
                raise ContractError(f"{where}: {role} {name!r} is not a column of the model")
        if not (self.description or "").strip():
            raise ContractError(f"{where}: the model needs Config.description")
        for name, column in columns.items():
            if not (column.description or "").strip():
                raise ContractError(f"{where}: column {name!r} has no description")
            metadata = column.metadata or {}
            pii = metadata.get("pii")
            if pii is not None and pii not in PII_CLASSES:
                raise ContractError(
                    f"{where}: column {name!r} has PII class {pii!r}; "
                    f"expected one of {sorted(PII_CLASSES)}"
                )
            fmt = metadata.get("format")
            if fmt is not None and fmt not in TIME_FORMATS:
                raise ContractError(f"{where}: column {name!r} has time format {fmt!r}")
            sent_as = metadata.get("json")
            if sent_as is not None and sent_as not in NUMBERS_AS:
                raise ContractError(f"{where}: column {name!r} has JSON type {sent_as!r}; "
                                    f"expected one of {sorted(NUMBERS_AS)}")
        for relation in self.parents:
            if relation.column not in columns:
                raise ContractError(f"{where}: relation to {relation.parent} reads column "
                                    f"{relation.column!r}, which is not a column of the model")
        if self.numbers_as not in NUMBERS_AS:
            raise ContractError(f"{where}: numbers_as {self.numbers_as!r}; expected one of "
                                f"{sorted(NUMBERS_AS)}")
        if not 0 <= self.max_quarantine_fraction <= 1:
            raise ContractError(f"{where}: max_quarantine_fraction must be within [0, 1]")
        for name, path in self.lift.items():
            if name not in columns:
                raise ContractError(f"{where}: lifted field {path!r} needs a model column {name!r}")
        known = set(columns) | set(self.derived)
        for expectation in self.expectations:
            for name in expectation.columns:
                if name not in known:
                    raise ContractError(
                        f"{where}: expectation {expectation.type} reads column {name!r}, "
                        "which is neither a model column nor a derived one"
                    )

    @property
    def qualified_name(self) -> str:
        return f"{self.source}.{self.table}"

    @property
    def description(self) -> str:
        return getattr(self.model.Config, "description", None) or ""

    @property
    def strict(self) -> bool:
        return bool(self.model.to_schema().strict)

    @property
    def schema(self) -> pa.DataFrameSchema:
        return self.model.to_schema()

    @property
    def columns(self) -> list[Column]:
        return [_column(name, column, self.numbers_as)
                for name, column in self.schema.columns.items()]

    @property
    def record_fields(self) -> frozenset[str]:
        """The top-level fields of a source record this contract names: its columns and the
        roots of its lifted paths. Any other field is held back as unclassified drift."""
        return frozenset(self.schema.columns) | {path.split(".")[0] for path in self.lift.values()}

    @property
    def pii_columns(self) -> dict[str, str]:
        """Column name to PII class, for every column holding personal data."""
        return {column.name: column.pii for column in self.columns if column.pii}


def _column(name: str, column: Any, numbers_as: str) -> Column:
    metadata = column.metadata or {}
    return Column(
        name=name,
        dtype=str(column.dtype),
        description=column.description or "",
        nullable=bool(column.nullable),
        unique=bool(column.unique),
        pii=metadata.get("pii"),
        time_format=metadata.get("format"),
        rules=tuple(check.error or check.name for check in column.checks),
        numbers_as=metadata.get("json", numbers_as),
    )
