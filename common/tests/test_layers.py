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


# Inside the tracker: each package, and the tracker packages its code must never
# import. encoders is the floor (the store every other package reads through);
# live serves sockets from it; programme keeps schedules in it; ops, the top
# floor, may use them all. The shared modules at tracker/'s top (config,
# safetext, socket_orders) sit under every package and import none but the
# pure legacy parser.
TRACKER_PACKAGES = {"tracker.encoders", "tracker.live", "tracker.ops", "tracker.programme", "tracker.schedule"}
TRACKER_FORBIDDEN = {
    "tracker/encoders": {"tracker.live", "tracker.ops", "tracker.programme"},
    "tracker/live": {"tracker.ops"},
    "tracker/programme": {"tracker.live", "tracker.ops"},
    "tracker/schedule": TRACKER_PACKAGES - {"tracker.schedule"} | {"tracker.config"},
    "tracker/config.py": TRACKER_PACKAGES - {"tracker.encoders"},
    "tracker/safetext.py": TRACKER_PACKAGES | {"tracker.config"},
    "tracker/socket_orders.py": TRACKER_PACKAGES | {"tracker.config"},
}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module an import statement names, with its parents (a.b.c: a, a.b, a.b.c)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return found


@pytest.mark.parametrize("part", sorted(TRACKER_FORBIDDEN))
def test_tracker_floors(part: str) -> None:
    root = ROOT / part
    paths = [root] if root.suffix == ".py" else sorted(root.rglob("*.py"))
    arrows = [
        f"{path.relative_to(ROOT)} imports {target}"
        for path in paths
        if "tests" not in path.relative_to(ROOT).parts
        for target in sorted(imported_modules(path) & TRACKER_FORBIDDEN[part])
    ]
    assert not arrows, "\n".join(arrows)


def test_the_tracker_check_sees_an_arrow(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from tracker.live import hub\nfrom tracker.ops.alerts import send\nimport tracker.encoders.store\n"
    )
    assert {"tracker.live", "tracker.ops", "tracker.ops.alerts", "tracker.encoders"} <= imported_modules(module)


def test_project_is_wiring_only() -> None:
    modules = {path.name for path in (ROOT / "project").glob("*.py")}
    assert modules == {"__init__.py", "settings.py", "urls.py", "asgi.py"}


def test_the_check_sees_an_arrow(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import tracker.encoders.store\nfrom frontend import views\nfrom . import sibling\n")
    assert imported_packages(module) == {"tracker", "frontend"}
