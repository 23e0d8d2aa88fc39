"""`run.py marquez start|stop|status`: the Marquez API and its PostgreSQL, left running by hand.

Its folder is the data folder's `sandbox/marquez/` (PostgreSQL's data, the generated
`marquez.yml`, the logs, the state), so `stop` and `status` find what `start` left; the jars
are in the user's cache (`sandbox/marquez/jars.py`).
"""

from __future__ import annotations

import time
from pathlib import Path

from resources.environment import DataDir
from sandbox import marquez


def folder(data: DataDir) -> Path:
    return data.sandbox / "marquez"


def run(data: DataDir, action: str, port: int, admin_port: int) -> int:
    found = marquez.running(folder(data))
    if action == "stop":
        print("stopped" if marquez.stop(folder(data)) else "not running")
        return 0
    if action == "status":
        print(f"running at {found.url} (admin {found.admin_url})" if found else "not running")
        return 0
    if found is not None:
        print(f"already running at {found.url} (admin {found.admin_url})")
        return _announce(found)
    started_at = time.monotonic()
    try:
        started = marquez.start(folder(data), port=port, admin_port=admin_port)
    except marquez.MarquezError as error:
        print(error)
        return 1
    print(f"Marquez API at {started.url} (admin {started.admin_url}), "
          f"up in {time.monotonic() - started_at:.0f} s")
    return _announce(started)


def _announce(server: marquez.Marquez) -> int:
    env_file = server.folder / "env.sh"
    env_file.write_text("".join(f"export {k}='{v}'\n" for k, v in server.env.items()))
    for key, value in server.env.items():
        print(f"  {key}={value}")
    print(f"for this shell: source {env_file}")
    print(f"its log: {server.log}; stop it with: python3 run.py marquez stop")
    return 0
