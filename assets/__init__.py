"""Assets: extraction (stage, audit, publish), the dbt models, the notification events, and the
sources' dbt freshness as checks on the extraction assets.

The dbt side (`assets.transformer`) is imported by `defs()` only. It loads the models' specs
kept beside the manifest, not dagster-dbt or dbt-core (`assets.transformer.specs`), and
`EXTRACTION_SPECS` readers such as `python3 run.py contracts` need none of it.
"""

import dagster as dg

from assets.bigcommerce import CUSTOMERS, INVENTORY, METAFIELDS, ORDER_PRODUCTS, ORDERS, PRODUCTS
from assets.factory import build_extraction_asset
from assets.notifications import op_product_notification_event
from assets.wise import POINT_TRANSACTIONS, QUOTATIONS
from resources.transformer import manifest_path

# Every source table, one spec each: the only registry of them. The dbt sources, the
# translator's source-to-asset map and the tests all read this list.
EXTRACTION_SPECS = [
    CUSTOMERS, METAFIELDS, ORDERS, ORDER_PRODUCTS, PRODUCTS, INVENTORY,
    POINT_TRANSACTIONS, QUOTATIONS,
]
EXTRACTION_ASSETS = [build_extraction_asset(spec) for spec in EXTRACTION_SPECS]


def defs() -> dg.Definitions:
    """Built on call, not import: the dbt assets need the manifest (see transformer/project)."""
    from assets.transformer.assets import build_transformer_assets
    from assets.transformer.freshness import build_source_freshness_check
    from assets.transformer.specs import transformer_specs

    specs = transformer_specs(manifest_path(), EXTRACTION_SPECS)
    return dg.Definitions(
        assets=[*EXTRACTION_ASSETS, build_transformer_assets(specs, EXTRACTION_SPECS),
                op_product_notification_event],
        asset_checks=[build_source_freshness_check(specs.freshness_sources)],
    )
