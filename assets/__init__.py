"""Assets: extraction (stage, audit, publish), the dbt models, the notification events, and the
sources' dbt freshness as checks on the extraction assets."""

import dagster as dg

from assets.bigcommerce import READERS, bigcommerce_assets
from assets.notifications import op_product_notification_event
from assets.transformer.assets import build_transformer_assets
from assets.transformer.freshness import build_source_freshness_check
from assets.transformer.translator import GovernanceTranslator
from assets.wise import SOURCE_TABLES, wise_assets
from resources.transformer import transformer_project

EXTRACTION_ASSETS = [*bigcommerce_assets, *wise_assets]
EXTRACTION_SPECS = [*READERS, *SOURCE_TABLES]


def defs() -> dg.Definitions:
    """Built on call, not import: the dbt assets need the manifest (see transformer/project)."""
    translator = GovernanceTranslator(EXTRACTION_SPECS)
    transformer = build_transformer_assets(transformer_project(), translator)
    return dg.Definitions(
        assets=[*EXTRACTION_ASSETS, transformer, op_product_notification_event],
        asset_checks=[build_source_freshness_check(transformer_project(), translator)],
    )
