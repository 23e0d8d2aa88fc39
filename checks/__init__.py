"""Asset checks: the Pandera contract and Great Expectations audits, as blocking checks.

`contract_check_specs` is the one factory: every extraction asset gets `schema_contract` and
`quality_expectations` from its contract, so a new source table needs a contract and no
check code. The audits themselves run inside the extraction step (`checks.audit`), on the
staged batch, before anything is published.
"""

from __future__ import annotations

import dagster as dg

from checks.gx_audit import CHECK_NAME as QUALITY_CHECK
from checks.pandera_audit import CHECK_NAME as SCHEMA_CHECK
from checks.warehouse.rules import compile_rules
from checks.warehouse.suite import derived_select
from contracts.base import Contract


def pushed_down(contract: Contract) -> None:
    """Compile every Pandera rule and derived column to SQL, or raise naming the one that
    cannot be (cheap: strings only, no database)."""
    compile_rules(contract)
    derived_select(contract)

CHECK_NAMES = (SCHEMA_CHECK, QUALITY_CHECK)


def contract_check_specs(contract: Contract, asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The two checks; a rule that cannot run in the warehouse is refused here, when the
    definitions load (`ContractError` naming the table and the rule)."""
    pushed_down(contract)
    rules = sum(len(column.rules) + 1 for column in contract.columns)
    return [
        dg.AssetCheckSpec(
            SCHEMA_CHECK,
            asset=asset_key,
            blocking=True,
            description=(
                f"Pandera contract {contract.model.__name__}: {len(contract.columns)} columns, "
                f"{rules} rules (types, nullability, keys, ranges, formats). A wrong shape "
                f"blocks the batch; bad rows are quarantined up to "
                f"{contract.max_quarantine_fraction:.0%}."
            ),
        ),
        dg.AssetCheckSpec(
            QUALITY_CHECK,
            asset=asset_key,
            blocking=True,
            description=(
                f"Great Expectations suite of {len(contract.expectations)} expectations "
                "(row counts, value sets, cross-column rules, key uniqueness, freshness)."
            ),
        ),
    ]
