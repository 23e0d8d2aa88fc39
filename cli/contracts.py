"""`python3 run.py contracts`: re-derive the dbt sources files from the contracts."""

from __future__ import annotations

from assets import EXTRACTION_SPECS
from assets.transformer.sources import rendered, write


def regenerate(*, check: bool = False) -> int:
    if check:
        stale = [path for path, text in rendered(EXTRACTION_SPECS).items()
                 if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"out of date with the contracts: {path}")
        return 1 if stale else 0
    written = write(EXTRACTION_SPECS)
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} sources file(s) updated" if written else "sources files up to date")
    return 0
