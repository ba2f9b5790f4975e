"""Turns what a parser read into validated events: ends filled in, guids made unique, order fixed."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from ..safetext import clean
from .errors import ScheduleError
from .model import Event
from .text import plain_text
from .timezones import day_bounds

# Stable guids for sources without them, so a re-fetched schedule diffs cleanly.
_GUID_NAMESPACE = uuid.UUID("5c0e1a8e-3f3b-4a57-9b4c-6f1d2a7e9c10")


@dataclass
class Draft:
    """An event as a parser read it; end and duration may both be missing."""

    title: str
    start: datetime
    room: str
    where: str  # names the item in error messages, e.g. "event 1254"
    guid: str = ""
    source_id: str = ""
    end: datetime | None = None
    duration: timedelta | None = None
    speakers: list[str] = field(default_factory=list)
    abstract: str = ""
    url: str = ""
    language: str = ""
    track: str = ""
    recording: str = ""  # the talk's recording, where the schedule links one (checked with safe_url)
    do_not_record: bool = False  # the speakers opted out: no recording link, whatever the room's template


def finish(drafts: list[Draft], tz: tzinfo) -> list[Event]:
    """Validated events sorted by start, room and guid."""
    starts_by_room: dict[str, list[datetime]] = defaultdict(list)
    for draft in drafts:
        starts_by_room[draft.room].append(draft.start)
    events: list[Event] = []
    seen: dict[str, str] = {}
    for draft in drafts:
        if not draft.title.strip():
            raise ScheduleError(f"{draft.where}: no title")
        end = _end_of(draft, starts_by_room[draft.room], tz)
        if end < draft.start:
            raise ScheduleError(f"{draft.where} ({draft.title!r}): ends at {end.isoformat()} before it starts")
        guid = clean(draft.guid, multiline=False).strip() or _made_up_guid(draft)
        if guid in seen:
            raise ScheduleError(f"{draft.where} ({draft.title!r}): duplicate guid {guid!r}, also used by {seen[guid]}")
        seen[guid] = draft.where
        events.append(
            Event(
                guid=guid,
                # Schedule text is relayed, not refused: what JSON, XML or iCalendar cannot carry is dropped.
                title=" ".join(clean(draft.title).split()),
                start=draft.start,
                end=end,
                room=clean(draft.room, multiline=False).strip(),
                speakers=tuple(name for name in (" ".join(clean(s).split()) for s in draft.speakers) if name),
                abstract=clean(plain_text(draft.abstract)),
                url=draft.url,
                language=clean(draft.language, multiline=False).strip(),
                track=clean(draft.track, multiline=False).strip(),
                id=clean(draft.source_id, multiline=False).strip(),
                recording="" if draft.do_not_record else draft.recording,
                do_not_record=draft.do_not_record,
            )
        )
    return sorted(events, key=lambda event: (event.start, event.room, event.guid))


def _end_of(draft: Draft, room_starts: list[datetime], tz: tzinfo) -> datetime:
    if draft.end is not None:
        return draft.end
    if draft.duration is not None:
        # Durations are elapsed time: added in UTC, a talk over a DST change ends at the right wall time.
        return draft.start + draft.duration
    # No end and no duration (LSWT's hackathon has "<duration/>"): open until the room's next event or midnight.
    _, midnight = day_bounds(draft.start.astimezone(tz).date(), tz, time(0))
    return min([start for start in room_starts if start > draft.start] + [midnight])


def _made_up_guid(draft: Draft) -> str:
    # Source ids repeat across rooms (LSWT lists one coffee break in two rooms), so the room is part of the key.
    key = draft.source_id or f"{draft.title}\n{draft.start.isoformat()}"
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{draft.room}\n{key}"))
