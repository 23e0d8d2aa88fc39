"""The real Marquez API (sandbox/marquez), started once per test session for the tests that ask.

Its folder is a fresh temporary one outside pytest's base folder: pgserver runs PostgreSQL as
the `pgserver` OS user when the tests run as root, and another pytest session may reset its
base folder to 0700 meanwhile (tests/deploy/tcp_postgres.py saw it), locking that user out.
Ports are free ones, so a Marquez left on 5000 by hand does not matter.

When Maven Central does not serve marquez-api to this machine and no local jar is named
(GOV_MARQUEZ_JAR), the tests that need it are skipped with that one line as the reason; any other
failure to start fails them.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from sandbox import marquez


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def real_marquez():
    """A running `sandbox.marquez.Marquez` whose folder is `<data folder>/sandbox/marquez`, so
    `GOV_DATA_DIR=<folder.parent.parent>` makes `run.py marquez` commands find it."""
    data = Path(tempfile.mkdtemp(prefix="marquez-tests-"))
    try:
        server = marquez.start(data / "sandbox" / "marquez", port=free_port(),
                               admin_port=free_port())
    except marquez.JarsUnavailable as error:
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(str(error))
    yield server
    server.stop()
    shutil.rmtree(data, ignore_errors=True)
