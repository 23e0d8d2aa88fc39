"""Running the sandbox: in a background thread for tests and jobs, or as a process for the CLI.

`running_sandbox(config)` serves on 127.0.0.1 with an ephemeral port from a thread that owns
its own event loop, so synchronous callers (pytest, Dagster steps) and async clients alike can
use it; leaving the `with` block stops the server and joins the thread. `serve(...)` is the
foreground variant behind `python -m sandbox.bigcommerce`.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import tempfile
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from sandbox.bigcommerce.app import SandboxConfig, build_app
from sandbox.bigcommerce.data import Dataset

SHUTDOWN_TIMEOUT_S = 2.0  # in-flight requests get this long to finish when the server stops


@dataclass(frozen=True)
class SandboxHandle:
    """Where a running sandbox is, and the ground truth it serves."""

    base_url: str  # e.g. http://127.0.0.1:43123; the store API is under /stores/{store_hash}/
    store_hash: str
    access_token: str = field(repr=False)
    dataset: Dataset = field(repr=False)

    @property
    def store_url(self) -> str:
        return f"{self.base_url}/stores/{self.store_hash}"

    def stats(self) -> dict:
        """What the server saw: see `app.Stats.as_json`."""
        with urllib.request.urlopen(f"{self.base_url}/_sandbox/stats", timeout=10) as reply:
            return json.load(reply)

    def reset_stats(self) -> dict:
        request = urllib.request.Request(f"{self.base_url}/_sandbox/stats/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.load(reply)


@asynccontextmanager
async def _serving(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """Serve `app` while the block runs; yields the base URL actually bound."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        if bound_host in ("0.0.0.0", "::"):
            bound_host = "127.0.0.1"
        yield f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}"
    finally:
        await runner.cleanup()


@contextmanager
def running_sandbox(config: SandboxConfig) -> Iterator[SandboxHandle]:
    """Serve a sandbox on 127.0.0.1:<ephemeral> in a background thread for the block."""
    dataset = config.generate()
    app = build_app(config, dataset)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    outcome: dict = {}

    async def main() -> None:
        outcome["stop"] = asyncio.Event()
        try:
            async with _serving(app, "127.0.0.1", 0) as base_url:
                outcome["base_url"] = base_url
                ready.set()
                await outcome["stop"].wait()
        except Exception as exc:  # reported to the caller, who is waiting on `ready`
            outcome["error"] = exc
        finally:
            ready.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),),
                              name="bigcommerce-sandbox", daemon=True)
    thread.start()
    ready.wait()
    try:
        if "error" in outcome:
            raise RuntimeError("the BigCommerce sandbox failed to start") from outcome["error"]
        yield SandboxHandle(outcome["base_url"], config.store_hash, config.access_token, dataset)
    finally:
        if "stop" in outcome:
            loop.call_soon_threadsafe(outcome["stop"].set)
        thread.join(timeout=SHUTDOWN_TIMEOUT_S + 10)
        loop.close()


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 0,
          ready_file: str | os.PathLike | None = None) -> None:
    """Serve in the foreground until SIGTERM or SIGINT.

    Once listening, writes `ready_file` (JSON `{"base_url", "store_hash", "pid"}`, atomically:
    readers never see half a file) and prints one line with the URL. The ready file is removed
    again on shutdown, so a stale one never points at a dead server.
    """
    asyncio.run(_serve(config, host, port, Path(ready_file) if ready_file else None))


async def _serve(config: SandboxConfig, host: str, port: int, ready_file: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    app = build_app(config)
    # This process exists to serve one dataset: exempt its millions of records from the cyclic
    # GC, which would otherwise pause the first requests for a full scan of all of them.
    gc.freeze()
    async with _serving(app, host, port) as base_url:
        if ready_file is not None:
            _write_atomically(ready_file, {"base_url": base_url, "store_hash": config.store_hash,
                                           "pid": os.getpid()})
        print(f"BigCommerce sandbox ready at {base_url}/stores/{config.store_hash}", flush=True)
        try:
            await stop.wait()
        finally:
            if ready_file is not None:
                ready_file.unlink(missing_ok=True)


def _write_atomically(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
