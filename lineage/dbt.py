"""A `dbt build`'s artifacts as OpenLineage events, enriched with what governance needs.

The events themselves come from openlineage-integration-common's `DbtLocalArtifactProcessor`
(START and COMPLETE or FAIL per model, `schema`, `sql`, `columnLineage`, `ownership` from
`meta.owner`, `dataQualityAssertions` from the dbt tests). Around it, this module:

- hands the processor star-free SQL (`lineage.dbt_sql`), without which it finds no column
  lineage in this project's `select *` CTE style;
- names the DuckDB warehouse by its absolute path (`duckdb:///.../warehouse.duckdb`): the profile
  may give a path relative to the dbt project, which would make two names for one database;
- drops column-lineage inputs that are no dataset (a lateral `unnest` alias, for instance);
- adds a per-column `tags` facet of PII classes: a column's own `meta.pii` plus the classes of
  every column its lineage reaches, back to the sources' contract columns;
- gives every dataset, in every event that names it, its description and one spelling of each
  column type: Marquez overwrites a dataset's description with each event's (a test event
  without one would clear it) and tells fields apart by type (`bigint` beside `BIGINT`);
- lists a failed model as its job's output, as its START did: Marquez takes a closing event's
  outputs as the job's current version, and a FAIL without them cuts the model from the graph;
- makes every event a child of the Dagster run (`parent` facet).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openlineage.client.event_v2 import Dataset, RunEvent
from openlineage.client.facet_v2 import documentation_dataset, ownership_dataset, tags_dataset
from openlineage.common.provider.dbt import DbtLocalArtifactProcessor
from openlineage.common.provider.dbt.facets import ParentRunMetadata
from openlineage.common.provider.dbt.processor import Adapter, ModelNode

from lineage.dbt_sql import lineage_sql
from lineage.facets import field_type
from lineage.naming import NAMESPACE, PRODUCER, warehouse_table
from resources.lineage import LineageEmitter

LOG = logging.getLogger("commerce_governance.lineage")
PII_KEY = "pii"
GIVE_UP_AFTER = 5  # consecutive undelivered events after which the endpoint is taken as down
_Column = tuple[str, str, str]  # (namespace, dataset name, column)
ColumnTypes = dict[tuple[str, str], dict[str, str]]  # (schema, table) -> column -> type


class GovernanceDbtProcessor(DbtLocalArtifactProcessor):
    """The library's processor, with the hooks this project needs (see the module doc)."""

    def __init__(self, project_dir: Path, profiles_dir: Path, target: str,
                 target_path: Path | str | None = None) -> None:
        super().__init__(
            producer=PRODUCER,
            job_namespace=NAMESPACE,
            project_dir=str(project_dir),
            target=target,
            target_path=str(target_path) if target_path else None,
            # Read only when run_results.json does not say where profiles.yml is.
            dbt_command_line=["dbt", "build", "--profiles-dir", str(profiles_dir)],
            skip_errors=True,  # one odd node must not cost the run's other events
            logger=LOG,
        )
        self.project_dir = Path(project_dir)
        self._lineage_sql: dict[str, str] | None = None

    def extract_namespace(self, profile: dict) -> str:
        if self.adapter_type == Adapter.DUCKDB and profile.get("path") not in (None, ":memory:"):
            # dbt opens a relative path from the project dir; the extraction names the same
            # file with `lineage.naming`, so both sides meet on one node.
            path = self.project_dir / str(profile["path"])
            return warehouse_table(path, "schema", "table").namespace
        return super().extract_namespace(profile)

    def _to_openlineage_events(self, status: str, started_at: str, completed_at: str,
                               *args: Any, **kwargs: Any) -> Any:
        result = super()._to_openlineage_events(status, started_at, completed_at, *args,
                                                **kwargs)
        if result is not None and result.fail is not None:  # the library's FAIL lists none
            result.fail.outputs = list(result.start.outputs or [])
        return result

    def get_column_lineage(self, namespace: str, compiled_sql: str) -> Any:
        if self._lineage_sql is None:  # the manifest and dialect are known once parse() began
            self._lineage_sql = lineage_sql(self.manifest, self.extract_dialect())
        return super().get_column_lineage(namespace, self._lineage_sql.get(compiled_sql,
                                                                           compiled_sql))

    def extract_dataset_data(self, node: ModelNode, *args: Any, **kwargs: Any) -> Any:
        # The library names a source by its dbt name; the warehouse (and the SQL, hence the
        # column lineage) knows it by its identifier, e.g. `inventory_snapshots` reads
        # `raw_bigcommerce.inventory__batches`.
        identifier = node.metadata_node.get("identifier")
        if node.type == "source" and identifier and identifier != node.metadata_node["name"]:
            node = ModelNode(node.type, {**node.metadata_node, "name": identifier},
                             node.catalog_node)
        return super().extract_dataset_data(node, *args, **kwargs)

    def node_datasets(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every model and source of the manifest by its (namespace, name) in the events."""
        found = {}
        for kind, nodes in (("model", self.manifest.get("nodes", {})),
                            ("source", self.manifest.get("sources", {}))):
            for unique_id, node in nodes.items():
                if unique_id.startswith(("model.", "snapshot.", "source.")):
                    namespace, name, _, _ = self.extract_dataset_data(ModelNode(kind, node), None)
                    found[(namespace, name)] = node
        return found


def _meta(item: dict[str, Any]) -> dict[str, Any]:
    return item.get("meta") or (item.get("config") or {}).get("meta") or {}


def _classes(value: Any) -> set[str]:
    if not value:
        return set()
    return {str(v) for v in value} if isinstance(value, list) else {str(value)}


class _PiiResolver:
    """A column's PII classes: its own, and those of every column its lineage reaches."""

    def __init__(self, nodes: dict[tuple[str, str], dict[str, Any]],
                 events: Iterable[RunEvent]) -> None:
        self.own: dict[_Column, set[str]] = {
            (ns, name, column): _classes(_meta(spec).get(PII_KEY))
            for (ns, name), node in nodes.items()
            for column, spec in node.get("columns", {}).items()
        }
        self.upstream: dict[_Column, list[_Column]] = {}
        for event in events:
            for output in event.outputs or []:
                facet = (output.facets or {}).get("columnLineage")
                for column, fields in (facet.fields if facet else {}).items():
                    self.upstream[(output.namespace, output.name, column)] = [
                        (f.namespace, f.name, f.field) for f in fields.inputFields]
        self._memo: dict[_Column, set[str]] = {}

    def classes(self, column: _Column, visiting: frozenset[_Column] = frozenset()) -> set[str]:
        if column in self._memo:
            return self._memo[column]
        found = set(self.own.get(column, set()))
        for parent in self.upstream.get(column, []):
            if parent not in visiting:  # a model cannot read itself, but stay safe
                found |= self.classes(parent, visiting | {column})
        self._memo[column] = found
        return found

    def tags(self, dataset: Dataset, columns: Iterable[str],
             own_source: str) -> tags_dataset.TagsDatasetFacet | None:
        fields = []
        for column in sorted(set(columns)):
            key = (dataset.namespace, dataset.name, column)
            own = self.own.get(key, set())
            for cls in sorted(self.classes(key)):
                source = own_source if cls in own else "COLUMN_LINEAGE"
                fields.append(tags_dataset.TagsDatasetFacetFields(
                    key=PII_KEY, value=cls, source=source, field=column))
        return tags_dataset.TagsDatasetFacet(tags=fields, producer=PRODUCER) if fields else None


def _columns(dataset: Dataset, node: dict[str, Any]) -> set[str]:
    facets = dataset.facets or {}
    names = set(node.get("columns", {}))
    if schema := facets.get("schema"):
        names |= {field.name for field in schema.fields or []}
    if lineage := facets.get("columnLineage"):
        names |= set(lineage.fields)
    return names


def _enrich(events: list[RunEvent], nodes: dict[tuple[str, str], dict[str, Any]],
            types: ColumnTypes) -> None:
    known = {name for _, name in nodes}
    for event in events:  # unknown origins first, so no tag is traced through them
        for output in event.outputs or []:
            if lineage := (output.facets or {}).get("columnLineage"):
                for fields in lineage.fields.values():
                    fields.inputFields = [f for f in fields.inputFields if f.name in known]
                lineage.fields = {c: f for c, f in lineage.fields.items() if f.inputFields}
                if not lineage.fields:
                    del output.facets["columnLineage"]
    resolver = _PiiResolver(nodes, events)
    for event in events:
        for dataset in [*(event.inputs or []), *(event.outputs or [])]:
            node = nodes.get((dataset.namespace, dataset.name))
            if node is None:
                continue
            if dataset.facets is None:
                dataset.facets = {}
            # A source's classes were generated from its contract (`run.py contracts`): say
            # so as the extraction's events do, or Marquez would flip the tags' source.
            own = "CONTRACT" if node.get("resource_type") == "source" else "DBT_META"
            if tags := resolver.tags(dataset, _columns(dataset, node), own):
                dataset.facets["tags"] = tags
            _describe(dataset, node, types.get(tuple(dataset.name.split(".")[-2:]), {}))
            owner = _meta(node).get("owner")
            if owner and "ownership" not in dataset.facets:
                owners = [ownership_dataset.Owner(name=str(o)) for o in _classes(owner)]
                dataset.facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(
                    owners=owners, producer=PRODUCER)


def _describe(dataset: Dataset, node: dict[str, Any], types: dict[str, str]) -> None:
    """The node's description on the dataset, and its column types in one spelling: the
    warehouse's type where the YAML gives none (Marquez adds a new untyped field at every
    event, since its key (dataset, name, type) never matches a NULL type)."""
    if description := (node.get("description") or "").strip():
        dataset.facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=description, producer=PRODUCER)
    if schema := dataset.facets.get("schema"):
        for column in schema.fields or []:
            column.type = field_type(column.type or types.get(column.name))


def dbt_events(project_dir: Path, profiles_dir: Path, target: str, parent_job: str,
               parent_run_id: str, target_path: Path | str | None = None,
               column_types: ColumnTypes | None = None) -> list[RunEvent]:
    """The events of the last dbt invocation whose artifacts are under `target_path` (default:
    the project's target-path); `column_types` are the warehouse's, for columns the YAML does
    not type. Raises when the artifacts cannot be read."""
    processor = GovernanceDbtProcessor(project_dir, profiles_dir, target, target_path)
    processor.dbt_run_metadata = ParentRunMetadata(
        run_id=parent_run_id, job_name=parent_job, job_namespace=NAMESPACE)
    events = processor.parse().events()
    _enrich(events, processor.node_datasets(), column_types or {})
    return events


def emit_dbt_run(emitter: LineageEmitter, project_dir: Path, profiles_dir: Path, target: str,
                 parent_job: str, parent_run_id: str,
                 target_path: Path | str | None = None,
                 column_types: ColumnTypes | None = None) -> int:
    """Emit the invocation's events; returns how many were delivered. Never raises: lineage
    must not fail the dbt step (a failure is logged and counted in `emitter.failed`)."""
    if emitter.client is None:  # lineage disabled: not even worth reading the artifacts
        return 0
    try:
        events = dbt_events(project_dir, profiles_dir, target, parent_job, parent_run_id,
                            target_path, column_types)
    except Exception as error:  # unreadable artifacts, an unsupported adapter, a library bug
        LOG.warning("no dbt lineage for run %s: %s: %s", parent_run_id, type(error).__name__,
                    str(error).splitlines()[0][:200] if str(error) else "")
        emitter.failed += 1  # the step runs one thread: no lock needed to count this
        return 0
    # a build has hundreds of events: a lane stops after a few failures rather than wait on each
    return emitter.emit_all(events, give_up_after=GIVE_UP_AFTER)
