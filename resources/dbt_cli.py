"""dbt's CLI as a resource that loads dagster-dbt only when a step runs dbt.

dagster-dbt's `DbtCliResource` is the one that runs dbt; binding it directly would import
dagster-dbt, and with it dbt-core (about 2 s), in every process that loads the code location.
This resource holds the same settings and hands each `cli()` call to a `DbtCliResource`.
"""

from __future__ import annotations

from typing import Any

import dagster as dg


class DbtCli(dg.ConfigurableResource):
    """`DbtCliResource`'s settings; `cli()` takes the same arguments as its `cli()`."""

    project_dir: str
    profiles_dir: str | None = None
    target: str | None = None
    dbt_executable: str = "dbt"

    def cli(self, args: list[str], **kwargs: Any) -> Any:
        from dagster_dbt import DbtCliResource

        return DbtCliResource(
            project_dir=self.project_dir, profiles_dir=self.profiles_dir, target=self.target,
            dbt_executable=self.dbt_executable,
        ).cli(args, **kwargs)


def transformer_cli(target: str | None = None) -> DbtCli:
    """The project in `transformer/`, run by the venv's dbt, on `target` (the environment's
    by default)."""
    from resources.transformer import TRANSFORMER_DIR, dbt_executable, dbt_target

    return DbtCli(project_dir=str(TRANSFORMER_DIR), profiles_dir=str(TRANSFORMER_DIR),
                  target=target or dbt_target(), dbt_executable=dbt_executable())
