"""The code location's shape, as a committed snapshot: an unintended change to the graph shows in
review as a diff of `tests/snapshots/definitions.json`, not only as a behaviour somewhere later.

The snapshot is taken from the real `definitions.defs()`: every asset with its upstream assets,
owners, group and checks (and whether each blocks), every job with the assets (or ops) it
selects, every schedule and sensor with its target. After an intended change, regenerate it and
commit the diff with the change:

    UPDATE_SNAPSHOTS=1 python3 run.py test tests/test_definitions_snapshot.py
"""

from __future__ import annotations

import difflib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import dagster as dg

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
REGENERATE = "UPDATE_SNAPSHOTS=1 python3 run.py test tests/test_definitions_snapshot.py"


def _keys(keys: Any) -> list[str]:
    return sorted(key.to_user_string() for key in keys)


def describe(defs: dg.Definitions) -> dict[str, Any]:
    """What a reviewer should see change: plain, sorted JSON values only."""
    graph = defs.resolve_asset_graph()
    checks: dict[str, dict[str, str]] = {}
    for check in graph.asset_check_keys:
        spec = graph.get_check_spec(check)
        checks.setdefault(check.asset_key.to_user_string(), {})[check.name] = (
            "blocking" if spec.blocking else "non-blocking")
    assets = {
        spec.key.to_user_string(): {
            "group": spec.group_name,
            "owners": list(spec.owners),
            "deps": _keys(dep.asset_key for dep in spec.deps),
            "checks": dict(sorted(checks.get(spec.key.to_user_string(), {}).items())),
        }
        for spec in defs.resolve_all_asset_specs()
    }
    jobs = {}
    for job in defs.jobs:
        if isinstance(job, dg.JobDefinition):  # an op job (the quotation import)
            jobs[job.name] = {"ops": sorted(node.name for node in job.nodes)}
        else:  # `define_asset_job`: its selection, resolved against the graph
            jobs[job.name] = {"assets": _keys(job.selection.resolve(graph))}
    schedules = {schedule.name: {"job": schedule.job_name, "cron": schedule.cron_schedule,
                                 "timezone": schedule.execution_timezone}
                 for schedule in defs.schedules}
    sensors = {sensor.name: {"jobs": sorted(target.job_name for target in sensor.targets)}
               for sensor in defs.sensors}
    return {"assets": dict(sorted(assets.items())), "jobs": dict(sorted(jobs.items())),
            "schedules": dict(sorted(schedules.items())), "sensors": dict(sorted(sensors.items()))}


def render(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n"


def test_the_definitions_match_their_committed_snapshot():
    from definitions import defs as load

    with warnings.catch_warnings():  # Dagster's beta notices are not the snapshot's business
        warnings.simplefilter("ignore", dg.BetaWarning)
        current = render(describe(load()))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(current)
    committed = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if current != committed:
        diff = difflib.unified_diff(committed.splitlines(), current.splitlines(),
                                    "committed", "current", lineterm="", n=2)
        shown = "\n".join(list(diff)[:80])
        raise AssertionError(f"the definitions changed; if that was intended, run `{REGENERATE}` "
                             f"and commit tests/snapshots/{SNAPSHOT.name}:\n{shown}")
