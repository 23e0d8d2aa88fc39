"""The raw zone: write-audit-publish storage for extracted batches (Parquet + DuckDB views)."""

from resources.raw_zone.batch import StagedBatch
from resources.raw_zone.layout import TableRef
from resources.raw_zone.views import warehouse_lock
from resources.raw_zone.zone import RawZone, RawZoneResource

__all__ = ["RawZone", "RawZoneResource", "StagedBatch", "TableRef", "warehouse_lock"]
