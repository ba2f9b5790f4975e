"""frab / pretalx schedule.json: schedule > conference > days > rooms > events."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from .durations import parse_duration
from .errors import ScheduleError
from .frab import event_start, source_timezone
from .model import Event
from .normalize import Draft, finish
from .text import as_text, safe_url


def parse_frab_json(data: dict[str, Any], *, tz: tzinfo) -> list[Event]:
    """Events of every room in a decoded frab-style schedule.json."""
    schedule = _mapping(data.get("schedule", data), "schedule")
    conference = _mapping(schedule.get("conference"), "schedule.conference")
    zone = source_timezone(conference.get("time_zone_name"), tz)
    base_url = as_text(schedule.get("base_url"))
    days = conference.get("days")
    if not isinstance(days, list):
        raise ScheduleError("schedule.json: conference.days is not a list")
    drafts: list[Draft] = []
    for day_index, day in enumerate(days):
        rooms = _mapping(_mapping(day, f"day {day_index}").get("rooms"), f"day {day_index} rooms")
        for room_name, events in rooms.items():
            if not isinstance(events, list):
                raise ScheduleError(f"schedule.json: room {room_name!r} on day {day_index} is not a list")
            drafts.extend(
                _draft(_mapping(event, f"room {room_name!r} event"), room_name, zone, base_url) for event in events
            )
    return finish(drafts, zone)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScheduleError(f"schedule.json: {what} is missing or not an object")
    return value


def _draft(event: dict[str, Any], room_name: str, tz: tzinfo, base_url: str) -> Draft:
    source_id = as_text(event.get("id"))
    where = f"event {event.get('guid') or source_id or event.get('title')!r}"
    duration = as_text(event.get("duration"))
    persons = event.get("persons") or []
    return Draft(
        title=as_text(event.get("title")),
        start=event_start(event.get("date"), event.get("start"), tz, where),
        room=room_name,
        where=where,
        guid=as_text(event.get("guid")),
        source_id=source_id,
        duration=parse_duration(duration) if duration else None,
        speakers=[as_text(p.get("public_name") or p.get("name")) for p in persons if isinstance(p, dict)],
        abstract=as_text(event.get("abstract")) or as_text(event.get("description")),
        url=safe_url(as_text(event.get("url")), base_url),
        language=as_text(event.get("language")),
        track=as_text(event.get("track")),
        do_not_record=event.get("do_not_record") is True,
    )
