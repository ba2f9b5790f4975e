"""C3VOC "schedule2" JSON: a flat list of events with ISO start and end."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from .durations import parse_duration
from .errors import ScheduleError
from .frab import source_timezone
from .model import Event
from .normalize import Draft, finish
from .text import as_text, safe_url
from .timezones import parse_datetime


def parse_schedule2(data: dict[str, Any], *, tz: tzinfo) -> list[Event]:
    """Events of every room in a decoded schedule2 JSON document."""
    schedule = data.get("schedule", data)
    if not isinstance(schedule, dict) or not isinstance(schedule.get("events"), list):
        raise ScheduleError("schedule2 JSON: schedule.events is missing or not a list")
    conference = schedule.get("conference")
    if not isinstance(conference, dict):
        conference = {}
    zone = source_timezone(conference.get("time_zone_name"), tz)
    # Events refer to tracks by slug only; the names are in conference.tracks.
    track_names = {
        track.get("slug"): track.get("name") for track in conference.get("tracks") or [] if isinstance(track, dict)
    }
    base_url = as_text(schedule.get("base_url"))
    drafts = []
    for index, event in enumerate(schedule["events"]):
        if not isinstance(event, dict):
            raise ScheduleError(f"schedule2 JSON: event {index} is not an object")
        drafts.append(_draft(event, index, zone, track_names, base_url))
    return finish(drafts, zone)


def _name(value: Any) -> str:
    """The name of a reference that is either a string or an object with a name."""
    return as_text(value.get("name") if isinstance(value, dict) else value)


def _draft(event: dict[str, Any], index: int, tz: tzinfo, track_names: dict[Any, Any], base_url: str) -> Draft:
    where = f"event {as_text(event.get('guid')) or index!r}"
    start, end, duration = (as_text(event.get(key)) for key in ("start", "end", "duration"))
    if not start:
        raise ScheduleError(f"{where}: no start")
    track = event.get("track")
    if isinstance(track, dict):
        track = track.get("name") or track_names.get(track.get("slug")) or track.get("slug")
    people = event.get("participants") or event.get("persons") or []
    return Draft(
        title=as_text(event.get("title")),
        start=parse_datetime(start, tz),
        room=_name(event.get("room")),
        where=where,
        guid=as_text(event.get("guid")),
        source_id=as_text(event.get("code")) or as_text(event.get("id")),
        end=parse_datetime(end, tz) if end else None,
        duration=parse_duration(duration) if duration else None,
        # Only speakers are named on a talk; CONTRIBUTOR and other roles are helpers.
        speakers=[_name(p) for p in people if isinstance(p, dict) and p.get("role", "SPEAKER") == "SPEAKER"],
        abstract=as_text(event.get("abstract")) or as_text(event.get("description")),
        url=safe_url(as_text(event.get("url")), base_url),
        language=as_text(event.get("language")),
        track=as_text(track),
        recording=recording_link(event.get("links"), base_url),
        do_not_record=as_text(event.get("recording")).upper() in DO_NOT_RECORD or event.get("do_not_record") is True,
    )


# schedule 2.0's "recording" says whether a talk is recorded ("RECORD_BY_DEFAULT"); these say it is not.
DO_NOT_RECORD = frozenset({"DO_NOT_RECORD", "NO_RECORDING", "OPTOUT", "OPT_OUT"})
# Link types naming the talk's recording among an event's "links".
RECORDING_LINKS = frozenset({"RECORDING", "VIDEO"})


def recording_link(links: Any, base_url: str) -> str:
    """The first recording among an event's typed links, or ""."""
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and as_text(link.get("type")).upper() in RECORDING_LINKS:
            url = safe_url(as_text(link.get("url")), base_url)
            if url:
                return url
    return ""
