"""How fresh each extraction asset must stay, in Dagster's terms, from its contract.

The contract's `Freshness` (warn / error after so many hours) is the one statement of how old a
published table may grow; the Dagster freshness policy here and dbt's source freshness
(`assets/transformer/sources.py`) are both derived from it, so they cannot disagree.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from contracts.base import Contract


def freshness_policy(contract: Contract) -> dg.FreshnessPolicy:
    """FAIL past `error_after_hours` since the last materialization, WARN past `warn_after_hours`.

    Dagster requires the warn window to be strictly shorter than the fail window, whereas a
    contract may set both to the same age (no late stage, only missing): then there is no
    warn window at all.
    """
    fresh = contract.freshness
    fail = timedelta(hours=fresh.error_after_hours)
    warn = timedelta(hours=fresh.warn_after_hours)
    return dg.FreshnessPolicy.time_window(fail_window=fail,
                                          warn_window=warn if warn < fail else None)
