"""Top-level packages import one way, in the order docs/architecture.md writes down.

Every module's imports are read from its source (top-level, inside functions and under
`TYPE_CHECKING` alike: a lazy import is still a dependency), so a cycle between packages, or a
package leaning on a later one, fails here naming the file and the edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]  # no import of ours: this test reads, never loads
DOC = REPO_ROOT / "docs" / "architecture.md"
OUTSIDE = {"tests", "run"}  # the tests may import anything; run.py is standard library only
ARROW = "→"
MAX_LINES = 300  # a module longer than a few screens holds more than one responsibility


def documented_order() -> list[str]:
    """The line `contracts → resources → ...` of docs/architecture.md."""
    (line,) = [line for line in DOC.read_text().splitlines()
               if line.startswith("contracts ") and ARROW in line]
    return [name.strip() for name in line.split(ARROW)]


def top_level_packages() -> dict[str, list[Path]]:
    """Each first-party package (a folder with `__init__.py`) or root module, with its files."""
    found: dict[str, list[Path]] = {}
    for path in sorted(REPO_ROOT.iterdir()):
        if path.name.startswith(".") or path.stem in OUTSIDE:
            continue
        if path.is_dir() and (path / "__init__.py").is_file():
            found[path.name] = sorted(path.rglob("*.py"))
        elif path.suffix == ".py":
            found[path.stem] = [path]
    return found


def imported_packages(path: Path) -> set[str]:
    """The top-level names `path` imports, wherever in the module the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_package_is_placed_in_the_documented_order():
    order = documented_order()
    assert len(order) == len(set(order)), f"a package appears twice: {order}"
    missing = set(top_level_packages()) - set(order)
    assert not missing, f"place {sorted(missing)} in the import order of {DOC.name}"


def test_packages_import_only_those_before_them():
    order = documented_order()
    rank = {name: position for position, name in enumerate(order)}
    backwards = []
    for package, files in top_level_packages().items():
        for path in files:
            for imported in sorted(imported_packages(path) & set(rank)):
                if rank[imported] > rank[package]:
                    where = path.relative_to(REPO_ROOT)
                    backwards.append(f"{package} -> {imported} ({where})")
    assert not backwards, (f"imports against the order {' → '.join(order)} "
                           f"({DOC.name}): " + "; ".join(backwards))


def test_no_application_module_is_over_300_lines():
    modules = [path for files in top_level_packages().values() for path in files]
    long = [f"{path.relative_to(REPO_ROOT)} ({lines})" for path in [*modules, REPO_ROOT / "run.py"]
            if (lines := len(path.read_text().splitlines())) > MAX_LINES]
    assert not long, f"split by responsibility: {', '.join(long)}"


def test_the_check_sees_imports_inside_functions_and_type_checking_blocks(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from assets.spec import ExtractionSpec\n"
                      "def later():\n    import cli.main_job\n    from . import sibling\n")
    assert imported_packages(module) == {"typing", "assets", "cli"}
