"""Start and stop bqemulator, a local stand-in for BigQuery's REST API (DuckDB underneath).

It runs from its own venv (`sandbox/bigquery/venv.py`) as a process of its own session, so
`stop` ends it and anything it spawned together. Its DuckDB file, upload staging, log and state
file all live in the folder it is started on; nothing it does reaches the network: the DuckDB
extensions it insists on installing are already in its HOME.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.bigquery import venv
from sandbox.processes import alive, terminate_group

if TYPE_CHECKING:
    from google.cloud import bigquery

PROJECT = "local-project"
READY_TIMEOUT_S = 120.0
_STATE = "bqemulator.json"
# A Python exception's closing line, e.g. "OSError: [Errno 98] ... address already in use".
_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception): ")


class EmulatorError(RuntimeError):
    """The emulator did not start; the message is one line and names the log."""


@dataclass
class Emulator:
    """A running emulator; `env` is what a BigQuery client (or dbt) outside Python reads."""

    project: str
    port: int
    grpc_port: int
    pid: int
    folder: Path
    _process: subprocess.Popen | None = field(default=None, repr=False, compare=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "bqemulator.log"

    @property
    def env(self) -> dict[str, str]:
        # google-cloud-bigquery takes BIGQUERY_EMULATOR_HOST as the whole base URL.
        return {"BIGQUERY_EMULATOR_HOST": self.endpoint, "GOOGLE_CLOUD_PROJECT": self.project}

    def stop(self) -> None:
        terminate_group(self.pid, self._process)
        (self.folder / _STATE).unlink(missing_ok=True)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start(
    folder: Path,
    *,
    project: str = PROJECT,
    port: int | None = None,
    python: Path | None = None,
    timeout_s: float = READY_TIMEOUT_S,
) -> Emulator:
    """Start an emulator on 127.0.0.1 with its data under `folder`, once it answers.

    `port` defaults to a free one; `python` to the emulator venv's interpreter (built first if
    its lock changed). Raises `EmulatorError` if it exits or does not answer within `timeout_s`.
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    python = python or venv.ensure_venv()
    port = port or _free_port()
    grpc_port = _free_port()
    log = folder / "bqemulator.log"
    command = [str(python), "-m", "bqemulator", "start", "--rest-host", "127.0.0.1"]
    command += ["--rest-port", str(port), "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc_port)]
    command += ["--data-dir", str(folder / "duckdb"), "--project", project]
    with open(log, "ab") as out:
        # cwd is the data folder, so no `.bqemu.toml` of the caller's is read; the BQEMU_ settings
        # of the caller's environment are dropped for the same reason.
        process = subprocess.Popen(
            command,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=_environment(python, folder),
        )
    emulator = Emulator(project, port, grpc_port, process.pid, folder, process)
    _wait_ready(emulator, process, timeout_s)
    state = {"project": project, "port": port, "grpc_port": grpc_port, "pid": process.pid}
    (folder / _STATE).write_text(json.dumps(state))
    return emulator


def running(folder: Path) -> Emulator | None:
    """The emulator started earlier on this folder, if its process is still alive."""
    folder = Path(folder).resolve()
    state = folder / _STATE
    if not state.exists():
        return None
    fields = json.loads(state.read_text())
    if not alive(fields["pid"]):
        state.unlink()
        return None
    return Emulator(folder=folder, **fields)


def stop(folder: Path) -> bool:
    """Stop the emulator started on this folder; False if none was running."""
    emulator = running(folder)
    if emulator is None:
        return False
    emulator.stop()
    return True


def client(emulator: Emulator) -> bigquery.Client:
    """A google-cloud-bigquery client against the emulator (no credentials are asked for)."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(
        project=emulator.project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulator.endpoint),
    )


def _environment(python: Path, folder: Path) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BQEMU_") and key not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    return {
        **inherited,
        "HOME": str(venv.home(python.parent.parent)),
        "BQEMU_UPLOAD_STAGING_DIR": str(folder / "uploads"),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(emulator: Emulator, process: subprocess.Popen, timeout_s: float) -> None:
    url = f"{emulator.endpoint}/bigquery/v2/projects/{emulator.project}/datasets"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(
                f"bqemulator exited with code {process.returncode} before answering on "
                f"{emulator.endpoint} ({_last_line(emulator.log)}); its log: {emulator.log}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet
        time.sleep(0.2)
    terminate_group(process.pid, process)
    raise EmulatorError(
        f"bqemulator did not answer on {emulator.endpoint} within {timeout_s:.0f} s "
        f"({_last_line(emulator.log)}); its log: {emulator.log}"
    )


def _last_line(log: Path) -> str:
    """The log's last error line (a port in use, a missing module), else its last line.

    The last error, not the last line: a failed bind ends in `SystemExit: 3`, which says nothing.
    """
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.match(line) or '"level": "error"' in line]
    last = (errors or lines or ["the log is empty"])[-1]
    return last if len(last) <= 200 else last[:197] + "..."
