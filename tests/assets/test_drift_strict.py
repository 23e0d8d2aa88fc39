"""What "strict" means once drift never blocks: a strict contract WARNs on every batch that
holds a field back, until the field is classified; another contract WARNs the first time only,
then lists the field without failing its check."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from sandbox.bigcommerce.server import running_sandbox
from tests.assets.support import extraction_resources, sandbox_config
from tests.assets.test_contract_audits import evaluations, extract

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("asset", "endpoint", "strict"), [
    ("src_customer", "customers", True),
    ("src_product", "products", False),
])
def test_a_held_field_warns_every_run_only_under_a_strict_contract(tmp_path, wise_postgres,
                                                                    asset, endpoint, strict):
    fault = {"endpoint": endpoint, "kind": "add_field", "field": "launch_wave",
             "value": "wave-7", "fraction": 0.5}
    with running_sandbox(sandbox_config([fault])) as api:
        resources = extraction_resources(api, wise_postgres, tmp_path)
        first = extract(resources, {asset})
        second = extract(resources, {asset}, full_refresh=True)
    assert first.success and second.success
    before, after = (evaluations(r, asset)["schema_contract"] for r in (first, second))
    assert not before.passed and before.severity == dg.AssetCheckSeverity.WARN
    assert after.passed is (not strict)
    assert ("launch_wave" in after.description) is strict
    listed = json.loads(after.metadata["unclassified_fields"].value)
    assert [field["field"] for field in listed] == ["launch_wave"]
