"""Extraction assets: every source table, staged, audited and published to the raw zone."""

import dagster as dg

from assets.bigcommerce import bigcommerce_assets
from assets.wise import wise_assets

EXTRACTION_ASSETS = [*bigcommerce_assets, *wise_assets]

defs = dg.Definitions(assets=EXTRACTION_ASSETS)
