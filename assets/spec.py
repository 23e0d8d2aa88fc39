"""One source table, written once: the `ExtractionSpec` every extraction asset is built from.

A spec names the table's contract, the raw table it publishes, the dbt staging model that reads
it and its lineage job, and carries its `SourceReader`: how its records come and through which
resource. `assets.EXTRACTION_SPECS` lists every spec; nothing else registers a source table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import dagster as dg

from assets.freshness import freshness_policy
from assets.records import RecordShape
from checks import contract_check_specs
from contracts.base import Contract
from contracts.derive import record_path, table_schema
from resources.raw_zone import TableRef

if TYPE_CHECKING:  # assets.extraction imports this module
    from assets.extraction import Extraction

    # lineage/ is imported by the steps that emit: it loads openlineage-python (~0.25 s)
    from lineage.extraction import ExtractedTable
    from lineage.naming import DatasetId


class SourceReader(Protocol):
    """How one table's records come: through which Dagster resource, and named how."""

    @property
    def resource_key(self) -> str:
        """The Dagster resource the read goes through (e.g. `bigcommerce`)."""

    @property
    def kind(self) -> str:
        """The source system, shown as the asset's kind."""

    def read(self, resource: Any, extraction: Extraction) -> dict[str, Any]:
        """Stage every record (`extraction.add`); return the source's cost figures."""

    def dataset(self, resource: Any, spec: ExtractionSpec) -> DatasetId:
        """The source as lineage names it."""

    def secrets(self, resource: Any) -> list[str | None]:
        """Values lineage messages must never show (tokens, passwords)."""


@dataclass(frozen=True)
class ExtractionSpec:
    """One source table: its asset, its contract and how to read its records.

    The description, owners, column schema and checks all come from the contract.
    """

    name: str
    contract: Contract
    shape: RecordShape
    group: str
    reader: SourceReader
    source_label: str
    deps: tuple[str, ...] = ()
    snapshot: bool = False

    @property
    def ref(self) -> TableRef:
        parents = tuple((record_path(self.contract, relation.column),
                         TableRef(*relation.parent.split(".")))
                        for relation in self.contract.parents)
        return TableRef(self.contract.source, self.contract.table, snapshot=self.snapshot,
                        parents=parents)

    @property
    def raw_table(self) -> str:
        """The published view dbt reads, `raw_<source>.<table>`."""
        return f"{self.ref.schema}.{self.ref.table}"

    @property
    def staging_model(self) -> str:
        """The dbt model that reads the raw table (dbt's `stg_<source>__<table>` convention)."""
        return f"stg_{self.contract.source}__{self.contract.table}"

    @property
    def lineage_job(self) -> str:
        """The OpenLineage job of the extraction: the asset's own name."""
        return self.name

    @property
    def lineage_table(self) -> ExtractedTable:
        """What the extraction's lineage events say of its table."""
        from lineage.extraction import ExtractedTable

        return ExtractedTable(self.name, self.contract, self.ref, self.source_label)

    @property
    def description(self) -> str:
        return self.contract.description

    @property
    def owners(self) -> list[str]:
        return self.contract.owner.dagster_owners

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(self.name)

    @property
    def kinds(self) -> set[str]:
        return {self.reader.kind, "python", "parquet"}

    def asset_kwargs(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group_name": self.group,
            "description": self.description,
            "owners": self.owners,
            "kinds": self.kinds,
            "deps": list(self.deps),
            "tags": {"source": self.ref.source},
            "check_specs": contract_check_specs(self.contract, self.key),
            "freshness_policy": freshness_policy(self.contract),
            "required_resource_keys": {self.reader.resource_key, "raw_zone", "lineage"},
            "metadata": {
                "raw_table": self.raw_table,
                "quarantine_table": self.ref.quarantine_view,
                "source": self.source_label,
                "contract": f"contracts/{self.contract.source}/{self.contract.table}.py",
                "dagster/column_schema": table_schema(self.contract),
            },
        }

