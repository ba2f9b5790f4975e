"""An organiser starts from the programme: the schedule's rooms become the site's rooms.

`manage.py rooms_from_schedule <URL or file>` reads a schedule in any format
the site reads, and writes one room per schedule room into
config.private.json: a name for addresses (`hall-1`), the schedule's own
name as title and as `schedule-key` (so no key is typed by hand), and the
schedule's location. Rooms already following one of those schedule rooms
are left as they are; with `replace`, every other room (the examples of
config.json) is removed with `null`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from tracker.config import RESERVED_NAMES, ROOM_NAME
from tracker.schedule import Event, room_names

NAME_LENGTH = 40


@dataclass(frozen=True)
class Planned:
    """One schedule room and the site's room for it; `added` False when a room already followed it."""

    name: str
    source_room: str
    talks: int
    added: bool


def room_name(title: str, taken: set[str]) -> str:
    """An address-safe room name for a schedule room: "Saal 1" -> "saal-1", "Hall Ü" -> "hall-u"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:NAME_LENGTH].strip("-") or "room"
    if base in RESERVED_NAMES:
        base = f"{base}-room"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    assert ROOM_NAME.match(name)
    return name


def key_of(text: str) -> str:
    """As the sync matches a schedule-key: case and runs of spaces do not count."""
    return " ".join(text.split()).casefold()


def plan_rooms(
    events: list[Event],
    *,
    location: str,
    timezone: str,
    merged: dict[str, Any],
    private: dict[str, Any],
    replace: bool,
) -> tuple[dict[str, Any], list[Planned]]:
    """The new contents of config.private.json, and what became of each schedule room.

    `merged`: the config as it stands (config.json with config.private.json
    over it); `private`: config.private.json alone, which is what changes.
    """
    sections = ("config", "default")
    rooms = {name: values for name, values in merged.items() if name not in sections and isinstance(values, dict)}
    following = {key_of(values.get("schedule-key") or name): name for name, values in rooms.items()}
    updated = dict(private)
    taken = set(rooms) | set(sections)
    planned, kept = [], set()
    for source_room in room_names(events):
        talks = sum(1 for event in events if event.room == source_room)
        existing = following.get(key_of(source_room))
        if existing is not None and rooms[existing].get("schedule") == location:
            planned.append(Planned(existing, source_room, talks, added=False))
            kept.add(existing)
            continue
        name = room_name(source_room, taken)
        taken.add(name)
        kept.add(name)
        updated[name] = {
            "title": source_room,
            "schedule": location,
            "schedule-key": source_room,
            "schedule-timezone": timezone,
        }
        planned.append(Planned(name, source_room, talks, added=True))
    if replace:
        for name in rooms.keys() - kept:
            updated[name] = None  # removed, config.json's rooms included
    return updated, planned
