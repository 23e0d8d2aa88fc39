"""The code location: it only merges what each package exports."""

import dagster as dg

import assets
import automation
import resources


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(assets.defs(), automation.defs, resources.defs())
