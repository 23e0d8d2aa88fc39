"""`run.py bqemulator start|stop|status`: the local BigQuery emulator, left running by hand.

Its folder is the data folder's `sandbox/bigquery/` (DuckDB file, log, state), so `stop` and
`status` find what `start` left, and two data folders run two emulators side by side.
"""

from __future__ import annotations

from pathlib import Path

from resources.environment import DataDir
from sandbox import bigquery


def folder(data: DataDir) -> Path:
    return data.sandbox / "bigquery"


def run(data: DataDir, action: str, project: str) -> int:
    found = bigquery.running(folder(data))
    if action == "stop":
        print("stopped" if bigquery.stop(folder(data)) else "not running")
        return 0
    if action == "status":
        print(f"running at {found.endpoint} (project {found.project})" if found else "not running")
        return 0
    if found is not None:
        print(f"already running at {found.endpoint} (project {found.project})")
        return _announce(found)
    try:
        started = bigquery.start(folder(data), project=project)
    except bigquery.EmulatorError as error:
        print(error)
        return 1
    print(f"BigQuery emulator at {started.endpoint}, project {started.project}")
    return _announce(started)


def _announce(emulator: bigquery.Emulator) -> int:
    env_file = emulator.folder / "env.sh"
    env_file.write_text("".join(f"export {k}='{v}'\n" for k, v in emulator.env.items()))
    for key, value in emulator.env.items():
        print(f"  {key}={value}")
    print(f"for this shell: source {env_file}")
    print("Python clients pass credentials=AnonymousCredentials() (no Google login is asked);")
    print(f"its log: {emulator.log}; stop it with: python3 run.py bqemulator stop")
    return 0
