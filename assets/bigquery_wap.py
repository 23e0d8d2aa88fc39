"""Write-audit-publish on BigQuery, for an extraction whose raw zone is `BigQueryRawZone`.

The batch staged locally is loaded into its staging table, audited there (the same contract,
`checks.warehouse` on BigQuery) and published with its quarantine in one transaction. Nothing
of it reaches the tables dbt reads unless the audit let it through.
"""

from __future__ import annotations

from checks.audit import BatchAudit
from checks.judges import Judge, on_bigquery
from checks.policy import BATCH_BLOCKED, QuarantineReason
from checks.warehouse.bigquery_scratch import BigQueryScratch
from resources.bigquery.load import StagedLoad
from resources.bigquery.publish import Published
from resources.bigquery.raw_zone import BigQueryRawZone
from resources.raw_zone import StagedBatch


def judge_in_bigquery(zone: BigQueryRawZone, load: StagedLoad, batch: StagedBatch) -> Judge:
    """The audit of `load`'s staging table, its own relations beside it in the staging
    dataset."""
    scratch = BigQueryScratch(zone.bigquery.warehouse.client, load.rows.table_id,
                              zone.settings.staging_dataset, batch.batch_id)
    return on_bigquery(scratch)


def publish(zone: BigQueryRawZone, load: StagedLoad, audit: BatchAudit) -> Published:
    """The batch as the audit decided: its quarantined rows set aside, or, blocked, all of
    them (the published table unchanged)."""
    blocked = None
    if audit.verdict.outcome == "blocked":
        blocked = QuarantineReason("policy", BATCH_BLOCKED, None,
                                   f"batch blocked: {audit.verdict.summary}"[:300])
    return zone.publish_decided(load, audit.quarantine, blocked=blocked)


def table_of(zone: BigQueryRawZone, batch: StagedBatch) -> str:
    """Where the batch's rows are once published, for the asset's metadata."""
    return f"bigquery://{zone.bigquery.names.batches(batch.ref)}"
