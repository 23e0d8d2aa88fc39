"""Start and stop the Marquez API (Java) and its PostgreSQL, both kept in one folder.

The folder holds PostgreSQL's data (`postgres/`, its log `postgres/log`), the configuration
written at every start (`marquez.yml`), Marquez's log (`marquez.log`) and the state file that
`running` and `stop` read. Marquez runs as a process of its own session, so `stop` ends it
with anything it spawned; Flyway brings the schema up to date on every start.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.marquez import database, jars
from sandbox.marquez.jars import MarquezError
from sandbox.processes import alive, terminate_group

API_PORT, ADMIN_PORT = 5000, 5001
READY_TIMEOUT_S = 180.0  # the first start runs Marquez's ~85 Flyway migrations
_STATE = "marquez.json"
# Marquez's image runs with these (docker/entrypoint.sh): an `eventTime` without an offset is
# read in the JVM's zone, so the zone must not depend on the machine. The heap cap keeps one
# Marquez from claiming a quarter of the machine's memory beside a test run.
_JVM_OPTIONS = ["-Duser.timezone=UTC", "-Dlog4j2.formatMsgNoLookups=true", "-Xmx1g"]
# Lines of a Java log that say why it stopped: an exception, or a logged ERROR.
_CAUSE = re.compile(r"^(Caused by: )?[\w.$]+(Exception|Error)(: |$)")
_CONFIG = """\
# Written by sandbox/marquez/server.py at every start; edits are lost at the next one.
# Marquez's marquez.dev.yml (the configuration of its container image), with what differs:
# both connectors on 127.0.0.1 and the ports asked for, the embedded database, search off.
server:
  applicationConnectors:
    - type: http
      bindHost: 127.0.0.1
      port: {port}
      # lets %2F-encoded dataset names through, as Marquez's own configuration does
      httpCompliance: RFC7230_LEGACY
  adminConnectors:
    - type: http
      bindHost: 127.0.0.1
      port: {admin_port}
db:
  driverClass: org.postgresql.Driver
  url: {jdbc_url}
  user: {user}
  password: {password}
migrateOnStartup: true
graphql:
  enabled: true
# Off: on, Marquez indexes every event into an OpenSearch that is not here.
search:
  enabled: false
logging:
  level: INFO
  appenders:
    - type: console
tags:
  - name: PII
    description: Personally identifiable information
  - name: SENSITIVE
    description: Contains sensitive information
"""


@dataclass
class Marquez:
    """A running Marquez; `url` is what OPENLINEAGE_URL points at."""

    folder: Path
    port: int
    admin_port: int
    db_port: int
    pid: int
    _process: subprocess.Popen | None = field(default=None, repr=False, compare=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def log(self) -> Path:
        return self.folder / "marquez.log"

    @property
    def env(self) -> dict[str, str]:
        return {"OPENLINEAGE_URL": self.url}

    def stop(self) -> None:
        terminate_group(self.pid, self._process)
        database.stop(self.folder / "postgres")
        (self.folder / _STATE).unlink(missing_ok=True)

    def __enter__(self) -> Marquez:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start(
    folder: Path,
    *,
    port: int = API_PORT,
    admin_port: int = ADMIN_PORT,
    timeout_s: float = READY_TIMEOUT_S,
) -> Marquez:
    """Start PostgreSQL and Marquez with their data under `folder`, once Marquez is healthy.

    Raises `MarquezError` (one line) if Java or Maven is missing, the jars cannot be had, a port
    is taken, or Marquez exits or is not healthy within `timeout_s`; nothing is left running.
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if (found := running(folder)) is not None:
        raise MarquezError(f"Marquez is already running on {folder} at {found.url}")
    java = jars.java()
    classpath = jars.classpath()
    for wanted, option in ((port, "--port"), (admin_port, "--admin-port")):
        if _taken(wanted):
            raise MarquezError(f"port {wanted} on 127.0.0.1 is taken (another Marquez? "
                               f"`python3 run.py marquez status`); choose another with {option}")
    database.stop(folder / "postgres")  # left over by a Marquez that died
    try:
        db = database.start(folder / "postgres", _free_port())
    except database.DatabaseError as error:
        raise MarquezError(str(error)) from None
    config = folder / "marquez.yml"
    config.write_text(_CONFIG.format(port=port, admin_port=admin_port, jdbc_url=db.jdbc_url,
                                     user=db.user, password=db.password))
    config.chmod(0o600)  # it holds the database password
    command = [java, *_JVM_OPTIONS, "-cp", ":".join(map(str, classpath)), jars.MAIN_CLASS,
               "server", str(config)]
    with open(folder / "marquez.log", "ab") as out:
        log_from = out.tell()
        process = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    marquez = Marquez(folder, port, admin_port, db.port, process.pid, process)
    try:
        _wait_healthy(marquez, process, timeout_s, log_from)
    except BaseException:  # an interrupted first start too: nothing is left running
        marquez.stop()
        raise
    state = {"port": port, "admin_port": admin_port, "db_port": db.port, "pid": process.pid}
    (folder / _STATE).write_text(json.dumps(state))
    return marquez


def running(folder: Path) -> Marquez | None:
    """The Marquez started earlier on this folder, if its process is still alive."""
    folder = Path(folder).resolve()
    state = folder / _STATE
    if not state.exists():
        return None
    found = Marquez(folder=folder, **json.loads(state.read_text()))
    return found if alive(found.pid) else None


def stop(folder: Path) -> bool:
    """Stop Marquez and its PostgreSQL on this folder; False if neither was running."""
    folder = Path(folder).resolve()
    found = running(folder)
    if found is not None:
        found.stop()
        return True
    (folder / _STATE).unlink(missing_ok=True)
    return database.stop(folder / "postgres")


def _wait_healthy(marquez: Marquez, process: subprocess.Popen, timeout_s: float,
                  log_from: int) -> None:
    # The admin healthcheck covers the database; a namespace that always exists proves the API
    # answers. Not the namespace listing: one bad namespace in the database (a dataset's, which
    # Marquez writes before it rejects the event) makes every listing a 500.
    checks = [f"{marquez.admin_url}/healthcheck", f"{marquez.url}/api/v1/namespaces/default"]
    deadline = time.monotonic() + timeout_s
    last = "nothing answered"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MarquezError(f"Marquez exited with code {process.returncode} before it was "
                               f"healthy ({_last_cause(marquez.log, log_from)}); "
                               f"its log: {marquez.log}")
        answers = [_answer(url) for url in checks]
        if all(answer == 200 for answer in answers):
            return
        last = "; ".join(f"{url} {answer}" for url, answer in zip(checks, answers, strict=True))
        time.sleep(0.5)
    raise MarquezError(f"Marquez was not healthy on {marquez.url} within {timeout_s:.0f} s "
                       f"({last}; {_last_cause(marquez.log, log_from)}); its log: {marquez.log}")


def _answer(url: str) -> int | str:
    """The HTTP status `url` answers with, or why it did not answer."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError) as error:
        return "not listening" if "refused" in str(error) else type(error).__name__


def _last_cause(log: Path, start: int) -> str:
    """The root cause Java logged last since byte `start` (this start's part of the log): the
    innermost `Caused by:`, else its last ERROR line."""
    with open(log, "rb") as text:
        text.seek(start)
        lines = [line.strip() for line in text.read().decode(errors="replace").splitlines()]
    causes = [line.removeprefix("Caused by: ") for line in lines if _CAUSE.match(line)]
    errors = [line for line in lines if line.startswith("ERROR")]
    last = (causes or errors or [line for line in lines if line] or ["the log is empty"])[-1]
    return last if len(last) <= 200 else last[:197] + "..."


def _taken(port: int) -> bool:
    with socket.socket() as probe:
        # As Jetty binds: a port a stopped Marquez left in TIME_WAIT is free to it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
