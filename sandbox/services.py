"""Start and stop the embedded stand-ins: the sandbox BigCommerce API and the embedded PostgreSQL.

The API server runs as its own process (so it never competes with the client for the GIL) and
announces its address in a ready file; PostgreSQL is a pgserver instance in the data folder.
`start()` returns the environment variables that point the platform's resources at them,
exactly the variables production sets for the real services.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from resources.environment import DataDir
from sandbox.postgres import start_postgres, stop_postgres
from sandbox.processes import alive

READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class SandboxOptions:
    size: int = 200
    seed: int = 42
    quota: int = 150
    window_ms: int = 30_000
    fault_plan: Path | None = None
    # Overrides of what `size` implies (benchmarks shape one stream at a time).
    customers: int | None = None
    orders: int | None = None
    products: int | None = None
    drawn_orders: int = 0  # draw this many orders, serve `orders` made from them (0: draw all)


@dataclass(frozen=True)
class Sandbox:
    """The running stand-ins; `env` is what the resources read."""

    api_url: str
    store_hash: str
    access_token: str
    wise_postgres_url: str
    api_pid: int

    @property
    def env(self) -> dict[str, str]:
        return {
            "BIGCOMMERCE_API_URL": self.api_url,
            "BIGCOMMERCE_STORE_HASH": self.store_hash,
            "BIGCOMMERCE_ACCESS_TOKEN": self.access_token,
            "WISE_POSTGRES_URL": self.wise_postgres_url,
        }


def _state_file(data: DataDir) -> Path:
    return data.sandbox / "api.json"


def start(data: DataDir, options: SandboxOptions, *, detach: bool = False) -> Sandbox:
    """Start a fresh sandbox API (stopping an older one) and the embedded PostgreSQL.

    With `detach`, PostgreSQL outlives this process (for `run.py sandbox start`); otherwise
    pgserver stops it when this process exits.
    """
    stop(data)
    data.sandbox.mkdir(parents=True, exist_ok=True)
    postgres = start_postgres(
        data.sandbox / "pg",
        size=options.size,
        seed=options.seed,
        cleanup_mode=None if detach else "stop",
    )
    # A fixed token may be given (tests use one to prove it never leaks); else a fresh one.
    token = os.environ.get("SANDBOX_ACCESS_TOKEN") or secrets.token_hex(16)
    process, announced = launch_api(data.sandbox, options, token)
    sandbox = Sandbox(
        announced["base_url"], announced["store_hash"], token, postgres.reader_url, process.pid
    )
    state = {
        **sandbox.__dict__,
        "options": {**options.__dict__, "fault_plan": str(options.fault_plan or "")},
    }
    _state_file(data).write_text(json.dumps(state))
    _state_file(data).chmod(0o600)
    return sandbox


def launch_api(folder: Path, options: SandboxOptions, token: str, *,
               ready_timeout_s: float = READY_TIMEOUT_S) -> tuple[subprocess.Popen, dict]:
    """Start the sandbox API process; returns it and what it announced (`base_url`, ...).

    A million orders take the generator about two minutes: a benchmark waits longer."""
    folder.mkdir(parents=True, exist_ok=True)
    ready = folder / "api.ready.json"
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "sandbox.bigcommerce", "--host", "127.0.0.1", "--port", "0"]
    command += ["--size", str(options.size), "--seed", str(options.seed)]
    command += ["--quota", str(options.quota), "--window-ms", str(options.window_ms)]
    command += ["--ready-file", str(ready), "--drawn-orders", str(options.drawn_orders)]
    for kind in ("customers", "orders", "products"):
        if getattr(options, kind) is not None:
            command += [f"--{kind}", str(getattr(options, kind))]
    if options.fault_plan is not None:
        command += ["--fault-plan", str(Path(options.fault_plan).resolve())]
    with open(folder / "api.log", "ab") as log:
        # The token travels by environment, never on the command line where `ps` shows it.
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "SANDBOX_ACCESS_TOKEN": token},
        )
    return process, _wait_ready(ready, process, folder / "api.log", ready_timeout_s)


def _wait_ready(ready: Path, process: subprocess.Popen, log: Path, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready.exists():
            return json.loads(ready.read_text())
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the sandbox API exited with {process.returncode}:\n{tail}")
        time.sleep(0.05)
    process.terminate()
    raise TimeoutError(f"the sandbox API was not ready within {timeout_s:.0f} s ({log})")


def running(data: DataDir) -> Sandbox | None:
    """The sandbox started earlier from this data folder, if its API process is still alive."""
    state = _state_file(data)
    if not state.exists():
        return None
    fields = json.loads(state.read_text())
    if not alive(fields["api_pid"]):
        return None
    fields.pop("options", None)
    return Sandbox(**fields)


def stop(data: DataDir, *, postgres: bool = False) -> bool:
    """Stop the sandbox API started from this folder, and with `postgres` the embedded server
    too (otherwise pgserver stops it when the process that started it exits)."""
    sandbox = running(data)
    _state_file(data).unlink(missing_ok=True)
    stopped_postgres = postgres and stop_postgres(data.sandbox / "pg")
    if sandbox is None:
        return stopped_postgres
    os.kill(sandbox.api_pid, signal.SIGTERM)
    for _ in range(100):
        if not alive(sandbox.api_pid):
            return True
        time.sleep(0.05)
    os.kill(sandbox.api_pid, signal.SIGKILL)
    return True
