"""Assets: extraction (stage, audit, publish), the dbt models, the notification events, and the
sources' dbt freshness as checks on the extraction assets.

The dbt side (`assets.transformer`'s assets, freshness check and translator) is imported by
`defs()` only: it loads dagster-dbt and dbt-core, which `EXTRACTION_SPECS` readers such as
`python3 run.py contracts` have no use for.
"""

import dagster as dg

from assets.bigcommerce import CUSTOMERS, INVENTORY, METAFIELDS, ORDER_PRODUCTS, ORDERS, PRODUCTS
from assets.factory import build_extraction_asset
from assets.notifications import op_product_notification_event
from assets.wise import POINT_TRANSACTIONS, QUOTATIONS
from resources.transformer import transformer_project

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
    from assets.transformer.translator import GovernanceTranslator

    translator = GovernanceTranslator(EXTRACTION_SPECS)
    transformer = build_transformer_assets(transformer_project(), translator)
    return dg.Definitions(
        assets=[*EXTRACTION_ASSETS, transformer, op_product_notification_event],
        asset_checks=[build_source_freshness_check(transformer_project(), translator)],
    )
