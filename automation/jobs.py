"""Jobs: named slices of the asset graph, each with everything its targets need upstream."""

import dagster as dg

from automation.quotation_import import import_quotation_file

sync_customer = dg.define_asset_job(
    "sync_customer",
    selection=dg.AssetSelection.assets("dim_customer").upstream(),
    description="Customers from BigCommerce, audited and published, through dim_customer.",
)
sync_order = dg.define_asset_job(
    "sync_order",
    selection=dg.AssetSelection.assets("mart_complete_purchase_order").upstream(),
    description="Orders and their items through the completed-purchase mart.",
)
sync_product = dg.define_asset_job(
    "sync_product",
    selection=dg.AssetSelection.assets("dim_product", "dim_sku").upstream(),
    description="The catalog: products and variants through dim_product and dim_sku.",
)
create_product_notification_event = dg.define_asset_job(
    "create_product_notification_event",
    selection=dg.AssetSelection.assets("op_product_notification_event").upstream(),
    description="Products, inventory and customers through the notification events.",
)
# Every run of the full pipeline carries this tag, scheduled or launched by hand, so the
# production run queue (deploy/dagster.yaml) can hold it to one run at a time.
PIPELINE_TAG = {"governance/pipeline": "full"}
etl_pipeline = dg.define_asset_job(
    "etl_pipeline",
    selection=dg.AssetSelection.all(),
    description="Everything: extract every source, audit and publish it, then transform.",
    tags=PIPELINE_TAG,
)

JOBS = [sync_customer, sync_order, sync_product, create_product_notification_event,
        etl_pipeline, import_quotation_file]
