"""The Lua scripts name their keys and arguments once, at the top, numbered in order."""

from __future__ import annotations

import re

import pytest

from tracker.encoders.store import LUA_DIRECTORY

SCRIPTS = sorted(LUA_DIRECTORY.glob("*.lua"))
# `local name = KEYS[n]  -- why`, or `local name = tonumber(ARGV[n])` / `ARGV[n] == '1'` for a converted one.
NAMING = re.compile(r"local \w+ = (?:tonumber\()?(KEYS|ARGV)\[(\d+)\]\)?(?: == '1')?(?:\s+--.*)?\Z")
NUMBERED = re.compile(r"(KEYS|ARGV)\[\d+\]")


def test_every_script_is_found():
    assert {path.stem for path in SCRIPTS} >= {"commit", "remove", "set_attr", "read_for_heartbeat", "room_message"}


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_keys_and_arguments_are_named_at_the_top_and_used_by_name(path):
    numbers: dict[str, list[int]] = {"KEYS": [], "ARGV": []}
    code_started = False
    for line in path.read_text().splitlines():
        naming = NAMING.match(line)
        if naming:
            assert not code_started, f"{path.name}: {line.strip()!r} names an input below the code"
            numbers[naming.group(1)].append(int(naming.group(2)))
            continue
        if line.strip() and not line.startswith("--") and not line.startswith("local "):
            code_started = True
        code = line.split("--", 1)[0]
        assert not NUMBERED.search(code), f"{path.name}: {line.strip()!r} uses an input by number"
    for kind, found in numbers.items():
        assert found == list(range(1, len(found) + 1)), f"{path.name}: {kind} named out of order: {found}"
