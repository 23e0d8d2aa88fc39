"""The Dagster instance that lives in the data folder, so runs survive for `dagster dev`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from resources.environment import DataDir

DAGSTER_YAML = """\
# Written by the platform; the instance's runs, events and logs live in this folder.
telemetry:
  enabled: false
# No "join the community" pop-up over the pages a steward reviews.
nux:
  enabled: false
"""


def prepare_dagster_home(data: DataDir) -> str:
    """Create `DAGSTER_HOME` under the data folder and point this process (and children) at it."""
    home = data.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return str(home)


@contextmanager
def dagster_instance(data: DataDir) -> Iterator[dg.DagsterInstance]:
    prepare_dagster_home(data)
    with dg.DagsterInstance.get() as instance:
        yield instance
