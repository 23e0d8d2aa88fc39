"""Whether a stand-in's process is still running, and ending one, for the commands that start
and stop them."""

from __future__ import annotations

import os
import signal
import subprocess
import time


def alive(pid: int) -> bool:
    """True while `pid` runs; a dead child of ours is reaped first, or it would look alive."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def terminate_group(pid: int, process: subprocess.Popen | None = None) -> None:
    """SIGTERM to the session `pid` leads (started with `start_new_session`), SIGKILL after
    10 s, so whatever it spawned ends too. A leader that is our own child is reaped on the
    way (through `process` if given), or its zombie would keep the group alive."""
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if process is not None:
                process.poll()
            else:
                alive(pid)  # reaps it if it is a dead child of ours
            if not _group_alive(pid):
                return
            time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
