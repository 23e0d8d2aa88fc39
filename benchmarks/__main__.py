"""`python3 run.py bench [extraction|memory]`: run benchmarks and print their tables."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks import audit, extraction, lineage, load, memory, transformer
from benchmarks.report import machine

BENCHMARKS = {
    "audit": audit.run,
    "extraction": extraction.run,
    "lineage": lineage.run,
    "load": load.run,
    "memory": memory.run,
    "transformer": transformer.run,
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    print(f"machine: {machine()}\n", flush=True)
    for name in chosen:
        print(f"## {name}", flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            print(BENCHMARKS[name](Path(scratch)) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
