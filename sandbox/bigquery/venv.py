"""The BigQuery emulator's own virtual environment, `.venv-bqemulator`, built from its lock.

bqemulator cannot share `.venv`: it pins duckdb 1.x and `sqlglot<30.12`, which clash with what
dbt and the platform use. So it gets a venv of its own and runs as a separate process. Like
`run.py` does for `.venv`, the venv is rebuilt only when `sandbox/bqemulator.lock` (or Python's
minor version) changes, under a file lock so two processes never build it at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from resources.environment import REPO_ROOT

LOCK = Path(__file__).resolve().parent.parent / "bqemulator.lock"
VENV = Path(os.environ.get("GOV_BQEMULATOR_VENV", REPO_ROOT / ".venv-bqemulator"))
# DuckDB's extension folder names the platform; only the platforms the wheels exist for.
_DUCKDB_PLATFORMS = {"x86_64": "linux_amd64", "aarch64": "linux_arm64"}


def python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def home(venv: Path = VENV) -> Path:
    """The emulator's HOME: DuckDB looks for extensions under `$HOME/.duckdb`, and this one
    holds the copies of the bundled ones, so `INSTALL spatial` finds them and never downloads."""
    return venv / "home"


def _fingerprint() -> str:
    digest = hashlib.sha256(LOCK.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def ensure_venv(venv: Path = VENV) -> Path:
    """Build or refresh the emulator's venv if its lock changed; returns its interpreter."""
    stamp = venv / ".lock-sha256"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        wanted = _fingerprint()
        if stamp.exists() and stamp.read_text().strip() == wanted and python(venv).exists():
            return python(venv)
        started = time.monotonic()
        print(f"[bqemulator] building {venv} from {LOCK.name} (about a minute)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        # The lock is the whole closure: --no-deps installs exactly it, without pip's resolver;
        # wheels only, so nothing is compiled and nothing but PyPI is asked.
        pip = [str(python(venv)), "-m", "pip", "install", "--quiet", "--quiet"]
        pip += ["--disable-pip-version-check", "--no-deps", "--only-binary=:all:", "-r", str(LOCK)]
        subprocess.run(pip, check=True)
        _copy_extensions(venv)
        stamp.write_text(wanted)
        print(f"[bqemulator] {venv} ready in {time.monotonic() - started:.0f} s", flush=True)
        return python(venv)


def _copy_extensions(venv: Path) -> None:
    """Put the `duckdb-extension-*` packages' files where DuckDB's INSTALL looks first."""
    machine = platform.machine()
    if machine not in _DUCKDB_PLATFORMS:
        raise RuntimeError(f"no DuckDB extension platform known for machine {machine!r}")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = venv / "lib" / version / "site-packages"
    found = sorted(site.glob("duckdb_extension_*/extensions/v*/*.duckdb_extension"))
    names = {path.stem for path in found}
    if not {"spatial", "avro"} <= names:
        raise RuntimeError(f"{venv}: the spatial and avro extension files are missing ({names})")
    for extension in found:
        target = home(venv) / ".duckdb" / "extensions" / extension.parent.name
        target /= _DUCKDB_PLATFORMS[machine]
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(extension, target / extension.name)
