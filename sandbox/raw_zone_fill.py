"""Source records staged straight into the raw zone, without the extraction around them.

For the dbt benchmark and the tests that need a warehouse in a known state fast: each record is
parsed by its table's shape exactly as the extraction parses it, so what dbt reads is what an
extraction would have published. A record the shape refuses is a bug in the caller's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from assets import EXTRACTION_SPECS
from assets.records import Parsed, parse_record
from resources.raw_zone import RawZone, StagedBatch

SPECS = {spec.name: spec for spec in EXTRACTION_SPECS}


def stage_records(zone: RawZone, asset: str, records: Iterable[dict[str, Any]], run_id: str,
                  modified_at: Callable[[dict[str, Any]], datetime] | None = None) -> StagedBatch:
    """A batch of `asset`'s table holding `records`, staged and not yet published; a record
    without a modification time of its own takes `modified_at(record)`, else the batch's time."""
    spec = SPECS[asset]
    batch = zone.stage(spec.ref, run_id=run_id)
    for record in records:
        parsed = parse_record(record, spec.shape)
        if not isinstance(parsed, Parsed):
            raise ValueError(f"{asset} record {record.get('id')!r} does not parse: {parsed}")
        when = parsed.modified_at or (modified_at(record) if modified_at else batch.extracted_at)
        batch.add(parsed.pk, when, parsed.json)
    return batch
