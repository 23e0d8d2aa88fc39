"""Connections to the outside world, bound per environment in exactly one place: `defs()`.

The package itself imports nothing: every command reads `resources.environment`, and a plain
`import resources.environment` runs this file first. The bindings (`resources.bindings`) load
each connection's library, dagster-dbt and dbt-core among them (about 2 s), so only a caller
of `defs()` pays for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg


def defs() -> dg.Definitions:
    """Resources for the environment `GOV_ENV` names (local by default)."""
    from resources.bindings import defs as bind

    return bind()
