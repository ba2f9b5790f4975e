"""The dependency locks (`make lock`) are in step with the direct pins people edit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ["requirements-bootstrap", "requirements", "requirements-agent", "requirements-dev"]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+?)\s*(?:;.*?)?\s*\\?$")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_pins(path: Path) -> dict[str, str]:
    """The pins of an .in file and of those it includes with -r."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            pins |= direct_pins(path.parent / line.removeprefix("-r ").strip())
        elif line and not line.startswith("-"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line} is not an exact pin"
            pins[normal(name)] = version
    return pins


def locked(path: Path) -> dict[str, set[str]]:
    """Every package of a lock with its versions (one per platform marker at most), each entry hashed."""
    versions: dict[str, set[str]] = {}
    for entry in re.split(r"\n(?=\S)", path.read_text()):
        first = entry.splitlines()[0]
        match = PIN.match(first)
        if match is None:
            assert first.startswith("#"), f"{path.name}: {first!r} is not a pin"
            continue
        assert "--hash=sha256:" in entry, f"{path.name}: {first} has no hash"
        versions.setdefault(normal(match[1]), set()).add(match[2])
    return versions


@pytest.mark.parametrize("name", LOCKS)
def test_every_direct_pin_is_locked_at_its_version_with_hashes(name: str):
    lock = locked(ROOT / f"{name}.txt")

    for package, version in direct_pins(ROOT / f"{name}.in").items():
        assert lock.get(package) == {version}, f"{package}=={version}: run `make lock`"


def test_the_development_lock_holds_the_installer_runtime_and_agent_locks_versions():
    development = locked(ROOT / "requirements-dev.txt")

    for name in ("requirements-bootstrap", "requirements", "requirements-agent"):
        for package, versions in locked(ROOT / f"{name}.txt").items():
            assert development[package] == versions, package
