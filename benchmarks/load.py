"""What loading the code location costs next to `import dagster`, measured in one process.

Every figure comes from a fresh interpreter (nothing cached in memory, as in a step process or
a code server), and the kinds of process alternate so that a busy moment on the machine falls
on each of them alike. Three kinds:

- `import dagster` alone;
- `import dagster`, then the code location as `dagster` loads it (`import definitions`, then
  the `@dg.definitions` function): the issue's ratio is that load over this process's own
  `import dagster`;
- `import dagster`, then `import pandera.pandas`: the part of the load the contracts cannot do
  without (each is a Pandera `DataFrameModel`, pandas with it), so the floor of the ratio.
  dagster-dbt and dbt-core are no longer part of it: the dbt assets load from the specs kept
  beside the manifest (`assets.transformer.specs`).

Each row is the median of `RUNS` processes; the load's process also reports which of the
libraries that must be paid only where they are used it had imported.

Our modules are measured with their bytecode cached, as the installed libraries are (pip
compiles them) and as a code server or step process finds them after the first start: the
children run without `PYTHONDONTWRITEBYTECODE`, after one unmeasured load that writes the cache.
Without it every load compiles the project's modules again, about 0.1 s more here.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.report import table
from resources.environment import REPO_ROOT

RUNS = 5
TARGET = 1.5  # the code location loads in at most 1.5x the time of `import dagster`
# Loaded only by the steps that use them.
DEFERRED = ("great_expectations", "google.cloud.bigquery", "dagster_dbt", "dbt")

_CLOCK = "import json, sys, time\nstarted = time.perf_counter()\nimport dagster\n" \
         "dagster_s = time.perf_counter() - started\n"
ALONE = _CLOCK + "print(json.dumps({'dagster_s': dagster_s}))"
LOCATION = _CLOCK + f"""
started = time.perf_counter()
import definitions
definitions.defs()
load_s = time.perf_counter() - started
print(json.dumps({{'dagster_s': dagster_s, 'load_s': load_s,
                  'loaded': [m for m in {DEFERRED!r} if m in sys.modules]}}))"""
FLOOR = _CLOCK + """
started = time.perf_counter()
import pandera.pandas
print(json.dumps({'dagster_s': dagster_s, 'floor_s': time.perf_counter() - started}))"""


def _measure(code: str) -> dict:
    """One fresh interpreter in the repository, as `dagster -m definitions` would start."""
    env = {name: value for name, value in os.environ.items()
           if name != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True, env={**env, "PYTHONWARNINGS": "ignore"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(runs: int = RUNS) -> dict[str, list]:
    """Each kind of process `runs` times, alternated."""
    found: dict[str, list] = {"alone": [], "location": [], "floor": []}
    for _ in range(runs):
        for kind, code in (("alone", ALONE), ("location", LOCATION), ("floor", FLOOR)):
            found[kind].append(_measure(code))
    return found


def _median(samples: list[dict], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def _row(label: str, samples: list[dict], key: str) -> list[str]:
    values = [sample[key] for sample in samples]
    return [label, f"{statistics.median(values):.2f}", f"{min(values):.2f}",
            f"{max(values):.2f}"]


def report(found: dict[str, list]) -> str:
    location, floor = found["location"], found["floor"]
    rows = [
        _row("`import dagster` alone", found["alone"], "dagster_s"),
        _row("`import dagster`, in the load's process", location, "dagster_s"),
        _row("code location load after it (`import definitions; definitions.defs()`)",
             location, "load_s"),
        _row("`import pandera.pandas` after `import dagster` (pandas with it)", floor,
             "floor_s"),
    ]
    ratio = statistics.median(s["load_s"] / s["dagster_s"] for s in location)
    floor_ratio = statistics.median(s["floor_s"] / s["dagster_s"] for s in floor)
    loaded = sorted({name for sample in location for name in sample["loaded"]})
    runs = len(location)
    return "\n".join([
        table(["fresh process", f"median s ({runs} runs)", "min s", "max s"], rows),
        "",
        f"code location load / `import dagster`, same process (median of {runs}): {ratio:.2f} "
        f"(target <= {TARGET}; {'met' if ratio <= TARGET else 'not met'})",
        f"of which Pandera's own import, its floor with the contracts: {floor_ratio:.2f}",
        f"loaded by the code location, of {', '.join(DEFERRED)}: {', '.join(loaded) or 'none'}",
    ])


def run(folder: Path) -> str:
    from assets.transformer.specs import prepare_specs
    from resources.transformer import prepare_manifest

    prepare_manifest()
    prepare_specs()  # else the first load would build the kept specs, and time that too
    _measure(LOCATION)  # writes our modules' bytecode cache; not measured
    print(f"  {RUNS} x 3 fresh processes, alternated …", flush=True)
    return report(measure())


if __name__ == "__main__":
    print(run(Path.cwd()))
