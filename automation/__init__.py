"""Jobs (and, as they arrive, schedules and sensors) over the asset graph."""

import dagster as dg

etl_pipeline = dg.define_asset_job(
    "etl_pipeline",
    selection=dg.AssetSelection.all(),
    description="Everything: extract every source, audit and publish it, then transform.",
)

defs = dg.Definitions(jobs=[etl_pipeline])
