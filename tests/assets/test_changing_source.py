"""Extraction while the store changes under it, through Dagster's `materialize`.

The sandbox modifies two orders and two customers after every page it serves (as a busy store
does); a modified record moves to the end of a date_modified-sorted list and past the run's
bound. Whatever changes, no untouched record is skipped and none is published twice, and a
record that changed after the run's start is the next run's.
"""

from __future__ import annotations

import pytest

from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import extraction_resources, sandbox_config, zone_ref
from tests.assets.test_extraction_assets import materialize

pytestmark = pytest.mark.slow

CHANGING = [{"kind": "modify_during_read", "endpoint": "orders", "per_request": 2},
            {"kind": "modify_during_read", "endpoint": "customers", "per_request": 2}]
TABLES = {"src_order": "orders", "src_customer": "customers"}


def published_ids(zone, name: str) -> list[int]:
    ref = zone_ref(name)
    with zone.reader([ref]) as db:
        rows = db.execute(f"SELECT _pk FROM {ref.schema}.{ref.table}").fetchall()
    return [row[0] for row in rows]


def test_records_modified_during_the_run_cost_no_other_record(tmp_path, wise_postgres):
    size = DatasetSize(customers=1_300, orders=2_000, products=40)
    with running_sandbox(sandbox_config(CHANGING, size=size, quota=400)) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        zone = resources["raw_zone"].zone()
        everyone = {"src_order": {o["id"] for o in api.dataset.orders},
                    "src_customer": {c["id"] for c in api.dataset.customers}}

        assert materialize(resources, selection=set(TABLES)).success
        first = {name: published_ids(zone, name) for name in TABLES}
        changed = {name: set(api.stats()["modified"][stream]) for name, stream in TABLES.items()}
        assert materialize(resources, selection=set(TABLES)).success
        second = {name: published_ids(zone, name) for name in TABLES}

    for name in TABLES:
        assert changed[name], f"the sandbox modified no {name} record during the first run"
        assert len(first[name]) == len(set(first[name])), f"{name}: a record published twice"
        missing = everyone[name] - set(first[name])
        assert missing <= changed[name], f"{name}: untouched records skipped: {missing}"
        # The second run reads from before the first one's start: what changed is now in.
        assert len(second[name]) == len(set(second[name]))
        assert everyone[name] - set(second[name]) <= missing
