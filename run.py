"""The project's front door: bootstraps `.venv` from `requirements.lock`, then runs a command.

Standard library only, because it runs on a fresh machine that has nothing but Python 3.11.

    python3 run.py main [--size N] [--fault-plan FILE]   extract every source (embedded default)
                        [--warehouse bigquery-emulator]  ... with BigQuery's API, served locally
    python3 run.py test [pytest args]                    the whole test suite
    python3 run.py ui                                    Dagster's UI on the same instance
    python3 run.py sandbox start|stop|status             the embedded stand-ins, by hand
    python3 run.py bqemulator start|stop|status          the local BigQuery emulator, by hand
    python3 run.py marquez start|stop|status             Marquez (lineage API) on :5000, by hand
    python3 run.py prepare                               build the dbt manifest, and specs, if stale
    python3 run.py contracts [--check]                   regenerate dbt sources from contracts
    python3 run.py lineage DATASET [--column COL]        upstream/downstream from the event file
    python3 run.py bench                                 the benchmarks in benchmarks/
    python3 run.py lock                                  re-pin requirements.lock

The virtual environment is rebuilt only when `requirements.lock` (or the Python version)
changes; its fingerprint is kept in `.venv/.lock-sha256`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOCK = ROOT / "requirements.lock"
VENV = Path(os.environ.get("GOV_VENV", ROOT / ".venv"))
STAMP = VENV / ".lock-sha256"


def _fingerprint() -> str:
    # The minor version, not the patch: a machine may have two 3.11s (pyenv's and Debian's), and
    # `python3 run.py ui` with a bare PATH must not rebuild the venv a test run is using. A venv
    # whose base interpreter is gone fails `_venv_python().exists()` and is rebuilt anyway.
    digest = hashlib.sha256(LOCK.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _site_packages() -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return VENV / "lib" / version / "site-packages"


def bootstrap() -> Path:
    """Create or refresh `.venv` so it holds exactly what `requirements.lock` pins."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"run.py needs Python 3.11; this is {sys.version.split()[0]} ({sys.executable}).")
    VENV.parent.mkdir(parents=True, exist_ok=True)
    # Two commands started at once (CI and a developer) must not build the venv together.
    with open(VENV.parent / ".venv.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        wanted = _fingerprint()
        if STAMP.exists() and STAMP.read_text().strip() == wanted and _venv_python().exists():
            return _venv_python()
        started = time.monotonic()
        print(
            f"[run.py] building {VENV} from {LOCK.name} (first run takes about 2 minutes)",
            flush=True,
        )
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        # The lock is the full resolved closure, so --no-deps skips pip's slow resolver
        # while still installing every package, each at its pinned version.
        subprocess.run(
            [
                str(_venv_python()),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "-r",
                str(LOCK),
            ],
            check=True,
        )
        # The code location's packages live at the repository root; a .pth makes them
        # importable from any working directory without building a wheel.
        (_site_packages() / "commerce_governance.pth").write_text(f"{ROOT}\n")
        STAMP.write_text(wanted)
        print(f"[run.py] {VENV} ready in {time.monotonic() - started:.0f} s", flush=True)
        return _venv_python()


def _lock() -> int:
    python = bootstrap()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "uv"], check=True)
    return subprocess.call(
        [
            str(python),
            "-m",
            "uv",
            "pip",
            "compile",
            "pyproject.toml",
            "--extra",
            "dev",
            "--python-version",
            "3.11",
            "--no-annotate",
            "-o",
            str(LOCK),
        ],
        cwd=ROOT,
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "lock":
        return _lock()
    python = str(bootstrap())
    os.chdir(ROOT)
    if command == "test":
        return subprocess.call([python, "-m", "pytest", *rest])
    cli_commands = {
        "main", "ui", "sandbox", "bqemulator", "marquez", "bench", "prepare", "contracts",
    }
    if command in cli_commands | {"lineage"}:
        return subprocess.call([python, "-m", "cli", command, *rest])
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
