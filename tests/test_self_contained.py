"""A clone of the repository is all a reader needs: no file points at documents outside it, and
every relative link in the Markdown resolves to a file in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The project's working notes beside the repository: a clone does not have them. What the code
# and tests need from them is copied in, with a README saying where it came from.
OUTSIDE = re.compile(r"\.\./shared|(?<![\w-])(NOTES|DESIGN)\.md")
LINK = re.compile(r"\]\(([^)\s]+)\)")
BINARY = {".parquet", ".duckdb", ".png", ".jpg", ".gz", ".zip"}
THIS = Path(__file__).name


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    return [REPO_ROOT / name for name in listed
            if name and Path(name).suffix not in BINARY and (REPO_ROOT / name).is_file()]


def test_no_file_refers_to_documents_outside_the_repository():
    found = []
    for path in tracked_files():
        if path.name == THIS:
            continue
        text = path.read_text(errors="replace")
        found += [f"{path.relative_to(REPO_ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: "
                  f"{m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not found, "references outside the repository: " + "; ".join(found)


def test_every_relative_markdown_link_resolves_inside_the_repository():
    broken = []
    for path in tracked_files():
        if path.suffix != ".md":
            continue
        for target in LINK.findall(path.read_text()):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # a web address, or an anchor in the same page
            resolved = (path.parent / target.split("#", 1)[0]).resolve()
            if not resolved.exists() or REPO_ROOT not in resolved.parents:
                broken.append(f"{path.relative_to(REPO_ROOT)}: {target}")
    assert not broken, "links that do not resolve inside the repository: " + "; ".join(broken)
