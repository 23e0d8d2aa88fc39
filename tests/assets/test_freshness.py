"""Each extraction asset's Dagster freshness policy is its contract's freshness, nothing else."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import dagster as dg

from assets import EXTRACTION_ASSETS, EXTRACTION_SPECS
from assets.freshness import freshness_policy
from contracts.base import Freshness


def policy_of(name: str) -> dg.FreshnessPolicy:
    asset = next(a for a in EXTRACTION_ASSETS if a.key == dg.AssetKey(name))
    return asset.get_asset_spec(asset.key).freshness_policy


def test_daily_orders_fail_after_26_hours_and_hourly_inventory_after_2():
    orders = policy_of("src_order")
    assert orders.fail_window.to_timedelta() == timedelta(hours=26)
    assert orders.warn_window.to_timedelta() == timedelta(hours=25)
    inventory = policy_of("bigcommerce_onsale_product_inventory")
    assert inventory.fail_window.to_timedelta() == timedelta(hours=2)
    assert inventory.warn_window.to_timedelta() == timedelta(minutes=90)


def test_every_extraction_asset_follows_its_own_contract():
    for spec in EXTRACTION_SPECS:
        policy = policy_of(spec.name)
        assert policy.fail_window.to_timedelta() == timedelta(
            hours=spec.contract.freshness.error_after_hours), spec.name


def test_a_contract_with_no_late_stage_has_no_warn_window():
    """Dagster wants warn < fail; a contract may say both at once (only 'missing')."""
    (spec, *_) = EXTRACTION_SPECS
    contract = dataclasses.replace(spec.contract, freshness=Freshness(3, 3))
    policy = freshness_policy(contract)
    assert policy.fail_window.to_timedelta() == timedelta(hours=3)
    assert policy.warn_window is None
