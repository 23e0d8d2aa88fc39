"""The lineage of one extraction run: START, then COMPLETE, FAIL or ABORT, once.

One job per extraction asset (named after it), one OpenLineage run per step, its `parent` the
Dagster run. The audit's assertions and metrics travel on the extraction's own closing event,
as input facets of the staged batch (the dataset the audit read), rather than as a separate
`<asset>.audit` job: the event that says a load failed then also says which rules broke it,
and a blocked batch needs no second run to explain it.

Every event of the run, START and FAIL included, lists the raw table as its output. Marquez takes
each event's inputs and outputs as the job's current version, so a START or a FAIL without the
table would cut it from its producer in the lineage graph until the next success. Only COMPLETE
carries the table's output statistics: a blocked batch's FAIL says, in its state and error
message, that nothing was published, and lists the quarantine table where its failing rows did
land. Lineage never fails or slows a run: every event is built and sent inside a guard, and
messages are scrubbed of credentials before they leave.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from openlineage.client import constants
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    ownership_job,
    parent_run,
    processing_engine_run,
)
from openlineage.client.uuid import generate_new_uuid

from checks.audit import BatchAudit
from contracts.base import Contract
from contracts.derive import published_description
from lineage import facets, naming
from lineage.naming import NAMESPACE, PRODUCER, DatasetId
from resources.lineage import LineageEmitter, LineageResource
from resources.raw_zone import RawZone, StagedBatch, TableRef

SCHEDULED_TAG = "dagster/scheduled_execution_time"
MAX_MESSAGE = 1_000
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without URL credentials or any of `secrets`, cut to a readable length."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _USERINFO.sub(r"\1***@", text)[:MAX_MESSAGE]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def nominal_time(tags: dict[str, str]) -> str | None:
    """The schedule's tick time, when a schedule launched the run."""
    try:
        return datetime.fromisoformat(tags[SCHEDULED_TAG]).astimezone(UTC).isoformat()
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ExtractedTable:
    """What lineage tells of the table an extraction writes: plain values, so lineage needs
    nothing from the assets that report through it (`ExtractionSpec.lineage_table`)."""

    asset: str
    contract: Contract
    ref: TableRef
    source_label: str


@dataclass
class ExtractionLineage:
    """Reports one extraction. `source` is named lazily, inside the guard."""

    emitter: LineageEmitter
    job_name: str
    table: ExtractedTable
    zone: RawZone
    source: Callable[[], DatasetId]
    dagster_run_id: str
    dagster_job: str
    tags: dict[str, str]
    log: Any = None  # Dagster's run log; lineage's own summary goes there
    secrets: tuple[str, ...] = ()
    run_id: str = field(default_factory=lambda: str(generate_new_uuid()))
    closed: bool = False

    def start(self) -> None:
        self._send(RunState.START, lambda: (self._inputs(None), [self._published()]))

    def completed(self, batch: StagedBatch, audit: BatchAudit) -> None:
        """The batch is published: the raw table is the output, with its statistics."""
        def datasets() -> tuple[list, list]:
            path = batch.published_path
            statistics = facets.output_statistics(
                batch.rows, path.stat().st_size if path else None, 1 if path else None)
            return self._inputs(audit), [self._published(statistics), *self._quarantine(batch)]

        self._send(RunState.COMPLETE, datasets)

    def blocked(self, batch: StagedBatch, audit: BatchAudit) -> None:
        """The contract blocked the batch: FAIL, with why, and no published output."""
        verdict = audit.verdict
        broken = [f"{result.check}: {finding.rule}"
                  + (f" on {finding.column}" if finding.column else "") + f" x{finding.count}"
                  for result in audit.results for finding in result.findings
                  if finding.level != "warn"]
        broken += [f"{result.check} could not run" for result in audit.results if result.error]
        message = (f"{self.job_name}: batch {batch.batch_id} blocked by its contract "
                   f"({verdict.rows_failing} of {verdict.records_read} records failing; limit "
                   f"{self.table.contract.max_quarantine_fraction:.0%}): " + "; ".join(broken))
        self._send(RunState.FAIL,
                   lambda: (self._inputs(audit), [self._published(), *self._quarantine(batch)]),
                   error=message)

    def crashed(self, error: BaseException, batch: StagedBatch | None,
                audit: BatchAudit | None = None) -> None:
        """The step raised (FAIL) or was interrupted (ABORT: termination, Ctrl-C)."""
        state = RunState.FAIL if isinstance(error, Exception) else RunState.ABORT
        message = f"{type(error).__name__}: {scrub(str(error), self.secrets)}"
        self._send(state, lambda: (self._inputs(audit), [
            self._published(), *(self._quarantine(batch) if batch is not None else [])]),
                   error=message)

    def _source(self) -> InputDataset:
        source = self.source()
        return InputDataset(source.namespace, source.name, facets={
            "dataSource": facets.data_source(source.namespace, source.name),
            "documentation": facets.documentation(f"Source of {self.table.asset}: "
                                                  f"{self.table.source_label}"),
        })

    def _inputs(self, audit: BatchAudit | None) -> list[InputDataset]:
        """The source and the staged batches; with an audit, the latter carry its results."""
        staged = naming.staged_batches(self.zone, self.table.ref)
        dataset_facets = facets.contract_facets(self.table.contract, staged.namespace,
                                                staged.name)
        quality = facets.quality_facets(self.table.contract, audit) if audit else {}
        return [self._source(), InputDataset(staged.namespace, staged.name, facets=dataset_facets,
                                             inputFacets=quality)]

    def _published(self, statistics: dict | None = None) -> OutputDataset:
        """The raw table dbt reads, described as its dbt source describes it."""
        table = naming.raw_table(self.zone, self.table.ref)
        return OutputDataset(table.namespace, table.name, facets=facets.contract_facets(
            self.table.contract, table.namespace,
            description=published_description(self.table.contract, self.table.source_label)),
            outputFacets=statistics)

    def _quarantine(self, batch: StagedBatch) -> list[OutputDataset]:
        if batch.quarantine_path is None:
            return []
        table = naming.quarantine_table(self.zone, self.table.ref)
        return [OutputDataset(table.namespace, table.name, facets={
            "documentation": facets.documentation(
                f"Rows of {self.table.ref.schema}.{self.table.ref.table} its contract quarantined, "
                "each with the rule, column and reason"),
            "dataSource": facets.data_source(table.namespace),
        }, outputFacets=facets.output_statistics(batch.quarantined))]

    def _run_facets(self, error: str | None) -> dict:
        run_facets: dict[str, Any] = {
            "parent": parent_run.ParentRunFacet(
                run=parent_run.Run(runId=self.dagster_run_id),
                job=parent_run.Job(namespace=NAMESPACE, name=self.dagster_job),
                producer=PRODUCER),
            "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
                version=dg.__version__, name="Dagster",
                openlineageAdapterVersion=constants.__version__, producer=PRODUCER),
        }
        if nominal := nominal_time(self.tags):
            run_facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
                nominalStartTime=nominal, producer=PRODUCER)
        if error is not None:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=scrub(error, self.secrets), programmingLanguage="python",
                producer=PRODUCER)
        return run_facets

    def _job(self) -> Job:
        owner = self.table.contract.owner
        return Job(namespace=NAMESPACE, name=self.job_name, facets={
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="DAGSTER", jobType="ASSET",
                producer=PRODUCER),
            "documentation": documentation_job.DocumentationJobFacet(
                description=f"Extracts {self.table.source_label} into "
                f"{self.table.ref.schema}.{self.table.ref.table}: staged, audited against its "
                "contract, then published or blocked (write-audit-publish).", producer=PRODUCER),
            "ownership": ownership_job.OwnershipJobFacet(
                owners=[ownership_job.Owner(name=f"team:{owner.team}", type="MAINTAINER")],
                producer=PRODUCER),
        })

    def _send(self, state: RunState, datasets: Callable[[], tuple[list, list]],
              error: str | None = None) -> None:
        """Build and emit one event; a closing event closes the run, whatever happens."""
        if self.closed:
            return
        self.closed = state != RunState.START
        began = time.monotonic()
        try:
            inputs, outputs = datasets()
            event = RunEvent(eventType=state, eventTime=_now(), producer=PRODUCER,
                             run=Run(runId=self.run_id, facets=self._run_facets(error)),
                             job=self._job(), inputs=inputs, outputs=outputs)
        except Exception as failure:  # building an event must not fail the extraction
            self.emitter.failed += 1
            self._log("warning", f"lineage {state.value} event not built: "
                      f"{type(failure).__name__}")
            return
        self.emitter.emit(event)
        if self.closed:
            level = "warning" if self.emitter.failed else "info"
            self._log(level, f"{self.emitter.summary()} "
                      f"({time.monotonic() - began:.2f} s for the last event)")

    def _log(self, level: str, message: str) -> None:
        if self.log is not None:
            getattr(self.log, level)(message)


def extraction_lineage(context: Any, resource: LineageResource, table: ExtractedTable,
                       zone: RawZone, source: Callable[[], DatasetId], *, job_name: str,
                       secrets: Iterable[str | None] = ()) -> ExtractionLineage:
    """The lineage of the extraction `context` runs (an asset's or an op's context)."""
    run = context.run
    return ExtractionLineage(
        emitter=resource.emitter(), job_name=job_name, table=table, zone=zone,
        source=source, dagster_run_id=run.run_id, dagster_job=run.job_name,
        tags=dict(run.tags), log=context.log, secrets=tuple(s for s in secrets if s))


__all__ = ["ExtractedTable", "ExtractionLineage", "extraction_lineage", "nominal_time", "scrub"]
