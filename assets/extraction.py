"""What every extraction asset shares: its config, its window and write-audit-publish.

An extraction streams records into a staged batch (`Extraction.add`), then `finish` audits the
sealed batch against the table's contract (`checks.audit`): it yields the two blocking check
results, then publishes the batch (its quarantined rows to the quarantine zone) or, when the
contract blocks it, publishes only the quarantine and fails the step. Any error on the way abandons
the batch, so the table dbt reads never shows part of a run. With an `ExtractionLineage`, each
step is reported too: START on entry, then COMPLETE, FAIL (blocked or crashed) or ABORT.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

from assets import bigquery_wap
from assets.records import Parsed, parse_record, to_json
from assets.spec import ExtractionSpec
from checks.audit import BatchAudit, Staging, audit_batch
from checks.drift import Drift, json_type
from resources.bigquery.raw_zone import BigQueryRawZone
from resources.raw_zone import RawZone, StagedBatch, TableRef

if TYPE_CHECKING:  # imported by the step that emits: it loads openlineage-python
    from lineage.extraction import ExtractionLineage

PROGRESS_EVERY_S = 5.0


class ExtractionConfig(dg.Config):
    """Run config shared by every extraction asset."""

    hours_lookback: int = Field(
        default=12, ge=0, description="Re-read records modified in this many past hours."
    )
    full_refresh: bool = Field(default=False, description="Re-read everything from the source.")


@dataclass(frozen=True)
class Window:
    """Which source changes a run reads: everything (`since` is None) or since a time."""

    since: datetime | None
    reason: str


def extraction_window(
    config: ExtractionConfig, zone: RawZone, ref: TableRef, now: datetime | None = None
) -> Window:
    """The lookback window, widened back to the last published change if runs were missed."""
    if config.full_refresh:
        return Window(None, "full refresh requested")
    if ref.snapshot:
        return Window(None, "snapshot table: read whole on every run")
    watermark = zone.watermark(ref)
    if watermark is None:
        return Window(None, "first load: nothing published yet, so everything is read")
    lookback = (now or datetime.now(UTC)) - timedelta(hours=config.hours_lookback)
    if watermark < lookback:
        return Window(watermark, f"since the last published change ({watermark:%Y-%m-%d %H:%M}Z)")
    return Window(lookback, f"last {config.hours_lookback} h")


@dataclass
class Extraction:
    """Stages one batch for one spec; see the module docstring."""

    context: dg.AssetExecutionContext
    spec: ExtractionSpec
    zone: RawZone
    window: Window
    batch: StagedBatch = field(init=False)
    pages: int = 0
    record_bytes: int = 0  # UTF-8 size of the records as staged
    fields_seen: set[str] = field(default_factory=set)
    staging: Staging = field(default_factory=Staging)  # what the audit needs to know
    started: float = field(default_factory=time.monotonic)
    lineage: ExtractionLineage | None = None
    audit: BatchAudit | None = None
    notes: dict[str, str] = field(default_factory=dict)  # what the reader wants a steward to see
    published_at: str | None = None  # the BigQuery table, when the raw zone is BigQuery's
    _last_progress: float = field(default_factory=time.monotonic)

    def __enter__(self) -> Extraction:
        self.batch = self.zone.stage(self.spec.ref, self.context.run.run_id)
        self.staging.drift = Drift(self.spec.contract.record_fields)
        since = self.window.since.isoformat() if self.window.since else "the beginning"
        self.context.log.info(
            f"{self.spec.name}: reading {self.spec.source_label} since {since} "
            f"({self.window.reason}); batch {self.batch.batch_id}"
        )
        if self.lineage is not None:
            self.lineage.start()
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, _tb: object) -> None:
        if error is not None and self.batch.published_path is None and not self.published_at:
            self.batch.abandon(f"{type(error).__name__}: {error}")
        if error is not None and self.lineage is not None:  # no-op once blocked() reported
            self.lineage.crashed(error, self.batch, self.audit)

    def add(self, records: Iterable[Any], modified_at: datetime | None = None) -> None:
        """Stage one page; a record that fails structure goes to quarantine with its rule, and
        the values of fields the contract does not name to the unclassified zone
        (`checks.drift`)."""
        self.pages += 1
        for original in records:
            record, held = self.staging.drift.split(original)
            parsed = parse_record(record, self.spec.shape)
            if isinstance(parsed, Parsed):
                when = parsed.modified_at or modified_at or self.batch.extracted_at
                row = self.batch.add(parsed.pk, when, parsed.json)
                for name, value in held.items():
                    self.batch.hold_field(row, parsed.pk, name, json_type(value), to_json(value))
                self.record_bytes += len(parsed.json.encode())
                self.fields_seen.update(original)
            else:
                if held:  # the quarantine keeps the record whole, as it came
                    parsed = replace(parsed, raw=to_json(original))
                self.staging.quarantined_by_rule[parsed.rule] += 1
                self.staging.quarantined_columns[parsed.rule] = parsed.column
                keys = self.staging.quarantined_keys.setdefault(parsed.rule, [])
                if len(keys) < 5:
                    keys.append(parsed.pk)
                self.batch.quarantine(
                    rule=parsed.rule,
                    column=parsed.column,
                    reason=parsed.reason,
                    raw=parsed.raw,
                    pk=parsed.pk,
                )
        self._progress()

    def hold_parent(self, parent: str, key: int, why: str) -> None:
        """Hold a parent (`source.table`) with this batch's rows of it, for a reason the
        batch cannot show (its children are gone at the source)."""
        self.staging.parents_out.setdefault(parent, {})[key] = why

    def note(self, name: str, text: str) -> None:
        """Say something about the read in the asset's metadata (e.g. what the source lacked)."""
        self.notes[name] = text

    def _progress(self) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_EVERY_S:
            self._last_progress = now
            self.context.log.info(
                f"progress {self.spec.name}: {self.pages} pages, {self.batch.rows} rows, "
                f"{self.batch.quarantined} quarantined, {now - self.started:.0f} s"
            )

    def finish(self, source_stats: dict[str, Any]) -> Iterator[Any]:
        """Audit the batch, yield both check results, then publish it or block it."""
        staging = self.staging
        staging.seen_before = self.zone.unclassified_fields(self.spec.ref)
        for _, parent in self.spec.ref.parents:
            quarantined = self.zone.newest_quarantined(parent)
            staging.parents_out[parent.qualified_name] = {
                **quarantined, **staging.parents_out.get(parent.qualified_name, {})}
        on_bigquery = isinstance(self.zone, BigQueryRawZone)
        load = self.zone.load(self.batch) if on_bigquery else None
        audit = self.audit = audit_batch(
            self.spec.contract, self.batch, self.spec.key, staging, move=not on_bigquery,
            judge=bigquery_wap.judge_in_bigquery(self.zone, load, self.batch)
            if on_bigquery else None)
        yield from audit.check_results
        parents = dict((p.qualified_name, p) for _, p in self.spec.ref.parents)
        for family in audit.families:  # before the batch: never a parent without its rows
            self.zone.hold_parents(parents[family.relation.parent], self.spec.ref,
                                   self.batch.batch_id, family.parents_held,
                                   family.parents_clean)
        if audit.verdict.outcome == "blocked":
            if on_bigquery:
                bigquery_wap.publish(self.zone, load, audit)
            else:
                self.zone.publish_quarantine(self.batch)
            self.batch.abandon(audit.verdict.summary)
            if self.lineage is not None:
                self.lineage.blocked(self.batch, audit)
            raise dg.Failure(
                description=f"{self.spec.name}: batch {self.batch.batch_id} blocked by its "
                f"contract: {audit.verdict.summary}"[:2000],
                metadata=self._metadata(source_stats, audit),
            )
        self.batch.seal()
        if on_bigquery:
            bigquery_wap.publish(self.zone, load, audit)
            self.published_at = bigquery_wap.table_of(self.zone, self.batch)
        else:
            self.zone.publish(self.batch)
        if self.lineage is not None:
            self.lineage.completed(self.batch, audit)
        metadata = self._metadata(source_stats, audit)
        self.context.log.info(
            f"{self.spec.name}: published {metadata['dagster/row_count']} rows, quarantined "
            f"{metadata['rows_quarantined']}, in {metadata['seconds']} s"
        )
        yield dg.MaterializeResult(metadata=metadata)

    def _metadata(self, source_stats: dict[str, Any], audit: BatchAudit) -> dict[str, Any]:
        published = self.published_at or self.batch.published_path
        quarantine = self.batch.quarantine_path
        # On BigQuery the staged files keep every row: the audit's decision says which went.
        moved = len(audit.quarantine) if isinstance(self.zone, BigQueryRawZone) else 0
        return {
            "dagster/row_count": self.batch.rows - moved,
            "rows_quarantined": self.batch.quarantined + moved,
            "quarantined_by_rule": audit.quarantined_by_rule,
            **source_stats,
            "pages": self.pages,
            "seconds": round(time.monotonic() - self.started, 2),
            "window_since": self.window.since.isoformat() if self.window.since else "everything",
            "window_reason": self.window.reason,
            "batch_id": self.batch.batch_id,
            "audit": audit.verdict.summary,
            "published_path": dg.MetadataValue.path(str(published)) if published else "none",
            "quarantine_path": dg.MetadataValue.path(str(quarantine)) if quarantine else "none",
            "fields_seen": sorted(self.fields_seen),
            **self.notes,
        }


def extract(
    context: dg.AssetExecutionContext,
    spec: ExtractionSpec,
    config: ExtractionConfig,
    zone: RawZone,
    read: Callable[[Extraction], dict[str, Any]],
    lineage: ExtractionLineage | None = None,
) -> Iterator[Any]:
    """Run one extraction end to end: `read` stages every record and returns the source's
    cost figures; the batch is then audited and published (or blocked)."""
    window = extraction_window(config, zone, spec.ref)
    with Extraction(context, spec, zone, window, lineage=lineage) as extraction:
        yield from extraction.finish(read(extraction))
