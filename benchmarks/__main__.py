"""`python3 run.py bench [audit|extraction|lineage|load|memory|transformer]`: run benchmarks and
print their tables; without a name, every one of them.

`python3 run.py bench scale --orders N` (`benchmarks/scale.py`) takes options of its own and is
never in the default list: one pass at 100k orders takes minutes."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks import audit, extraction, lineage, load, memory, scale, transformer
from benchmarks.report import machine

BENCHMARKS = {
    "audit": audit.run,
    "extraction": extraction.run,
    "lineage": lineage.run,
    "load": load.run,
    "memory": memory.run,
    "transformer": transformer.run,
}
# Benchmarks with options of their own: `main(argv)`, run only when named first.
COMMANDS = {"scale": scale.main}


def main(argv: list[str]) -> int:
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:])
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {[*BENCHMARKS, *COMMANDS]}",
              file=sys.stderr)
        return 2
    print(f"machine: {machine()}\n", flush=True)
    for name in chosen:
        print(f"## {name}", flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            print(BENCHMARKS[name](Path(scratch)) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
