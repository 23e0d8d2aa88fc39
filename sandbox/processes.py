"""Whether a stand-in's process is still running, for the commands that start and stop them."""

from __future__ import annotations

import os


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
