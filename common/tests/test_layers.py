"""The house in layers: common/ is a library both apps use, the apps never
reach into each other, and project/ is wiring only. Read from the import
statements, so a new arrow back up fails here before anyone builds on it.
Tests are exempt: an end-to-end test of the whole site may drive both apps."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each package, and the packages its code must never import.
FORBIDDEN = {
    "common": {"tracker", "frontend", "project", "testing"},
    "tracker": {"frontend", "project", "testing"},
    "frontend": {"tracker", "project", "testing"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_arrow_back_up(package: str) -> None:
    arrows = [
        f"{path.relative_to(ROOT)} imports {target}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if "tests" not in path.relative_to(ROOT).parts
        for target in sorted(imported_packages(path) & FORBIDDEN[package])
    ]
    assert not arrows, "\n".join(arrows)


def test_project_is_wiring_only() -> None:
    modules = {path.name for path in (ROOT / "project").glob("*.py")}
    assert modules == {"__init__.py", "settings.py", "urls.py", "asgi.py"}


def test_the_check_sees_an_arrow(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import tracker.store\nfrom frontend import views\nfrom . import sibling\n")
    assert imported_packages(module) == {"tracker", "frontend"}
