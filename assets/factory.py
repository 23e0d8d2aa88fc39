"""The one factory that turns an `ExtractionSpec` into its Dagster asset.

Every extraction asset is the same shape: open the spec's source through the resource its reader
names, stage every record, then audit and publish (`assets.extraction.extract`), with the
extraction's lineage beside it. Only the reader differs from table to table. A failed check
is also logged, one line at ERROR (it blocked the batch) or WARNING, so the run view says what
the alert will (`checks.report.headline`).
"""

# No `from __future__ import annotations` here: Dagster resolves the asset function's
# parameter annotations (its config) when the asset is defined.
from collections.abc import Iterator
from functools import partial

import dagster as dg

from assets.extraction import ExtractionConfig, extract
from assets.spec import ExtractionSpec
from checks.report import failed_check_headline


def build_extraction_asset(spec: ExtractionSpec) -> dg.AssetsDefinition:
    """The asset for `spec`; build one from a modified spec (`dataclasses.replace`) the same
    way, e.g. with another contract."""
    reader = spec.reader

    @dg.asset(**spec.asset_kwargs())
    def _asset(context: dg.AssetExecutionContext, config: ExtractionConfig) -> Iterator:
        from lineage.extraction import extraction_lineage  # openlineage: the step's, not the load's

        source = getattr(context.resources, reader.resource_key)
        zone = context.resources.raw_zone.zone()
        tracer = extraction_lineage(context, context.resources.lineage, spec.lineage_table, zone,
                                    partial(reader.dataset, source, spec),
                                    job_name=spec.lineage_job, secrets=reader.secrets(source))
        for event in extract(context, spec, config, zone, partial(reader.read, source),
                             lineage=tracer):
            if isinstance(event, dg.AssetCheckResult) and not event.passed:
                blocked = event.severity == dg.AssetCheckSeverity.ERROR
                (context.log.error if blocked else context.log.warning)(
                    failed_check_headline(event))
            yield event

    return _asset
