"""The job `bench scale` runs, and each step's phases read back from the run's event log.

The job is the main job's `sync_order` slice (orders, their lines, the customers, metafields
and products they reference, through `mart_complete_purchase_order`) over the code location's
own assets and resources, with one change: each extraction asset is built by the same factory
from its spec with the reader wrapped, so that the step logs one line when its source read
ends. An extraction step is one process that reads, audits and publishes, and that line is
the only boundary Dagster's events do not already mark:

    STEP_START -> read done (logged here) -> first check result (audit done)
               -> materialization (published) -> STEP_SUCCESS
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    from assets.extraction import Extraction
    from assets.spec import SourceReader

JOB = "sync_order"
READ_DONE = "bench-scale: source read done"


@dataclass(frozen=True)
class TimedReader:
    """The spec's own reader, saying when it has staged its last record."""

    inner: SourceReader

    @property
    def resource_key(self) -> str:
        return self.inner.resource_key

    @property
    def kind(self) -> str:
        return self.inner.kind

    def read(self, resource: Any, extraction: Extraction) -> dict[str, Any]:
        stats = self.inner.read(resource, extraction)
        extraction.context.log.info(f"{READ_DONE}: {extraction.batch.rows} rows staged")
        return stats

    def dataset(self, resource: Any, spec: Any) -> Any:
        return self.inner.dataset(resource, spec)

    def secrets(self, resource: Any) -> list[str | None]:
        return self.inner.secrets(resource)


def scale_job() -> dg.JobDefinition:
    """Module-level so `dg.reconstructable` can rebuild the job in every step process."""
    import resources
    from assets import EXTRACTION_SPECS
    from assets.factory import build_extraction_asset
    from assets.transformer.assets import build_transformer_assets
    from assets.transformer.specs import transformer_specs
    from automation.jobs import sync_order
    from resources.transformer import manifest_path

    extraction = [build_extraction_asset(replace(spec, reader=TimedReader(spec.reader)))
                  for spec in EXTRACTION_SPECS]
    transformer = build_transformer_assets(transformer_specs(manifest_path(), EXTRACTION_SPECS),
                                           EXTRACTION_SPECS)
    definitions = dg.Definitions(assets=[*extraction, transformer], jobs=[sync_order],
                                 resources=resources.defs().resources)
    return definitions.resolve_job_def(JOB)


@dataclass
class Step:
    """One step's moments (`time.time()`, as Dagster stamps events) and what it published."""

    key: str
    launched: float | None = None
    started: float | None = None
    pid: int | None = None
    read_done: float | None = None
    audited: float | None = None
    published: float | None = None
    ended: float | None = None
    succeeded: bool = False
    rows: int | None = None

    @property
    def extraction(self) -> bool:
        return self.read_done is not None


def steps_of(entries: list[dg.EventLogEntry]) -> dict[str, Step]:
    """Each step of the run, from its event log."""
    found: dict[str, Step] = {}
    kinds = dg.DagsterEventType
    for entry in entries:
        if not entry.step_key:
            continue
        step = found.setdefault(entry.step_key, Step(entry.step_key))
        event = entry.dagster_event
        if event is None:
            if entry.user_message.startswith(READ_DONE):
                step.read_done = entry.timestamp
            continue
        kind = event.event_type
        if kind == kinds.STEP_WORKER_STARTING:
            step.launched = entry.timestamp
        elif kind == kinds.STEP_START:
            step.started, step.pid = entry.timestamp, event.pid
        elif kind == kinds.ASSET_CHECK_EVALUATION and step.audited is None:
            step.audited = entry.timestamp
        elif kind == kinds.ASSET_MATERIALIZATION and step.extraction:
            step.published = entry.timestamp
            row_count = event.step_materialization_data.materialization.metadata.get(
                "dagster/row_count")
            step.rows = row_count.value if row_count is not None else None
        elif kind in (kinds.STEP_SUCCESS, kinds.STEP_FAILURE):
            step.ended, step.succeeded = entry.timestamp, kind == kinds.STEP_SUCCESS
    return found
