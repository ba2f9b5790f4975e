"""What frab's schedule.xml and schedule.json share: the start of an event and the source's zone."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, tzinfo

from .errors import ScheduleError
from .text import as_text
from .timezones import get_timezone, localize, parse_datetime

_WALL_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2})?")


def source_timezone(declared: object, fallback: tzinfo) -> tzinfo:
    """The zone the file declares (it describes the file best), else the room's configured zone."""
    name = as_text(declared)
    return get_timezone(name) if name else fallback


def event_start(date_text: object, start_text: object, tz: tzinfo, where: str) -> datetime:
    """An event's start from frab's <date> timestamp, checked against its local <start> wall-clock time."""
    if not isinstance(date_text, str) or not date_text.strip():
        raise ScheduleError(f"{where}: no date")
    moment = parse_datetime(date_text, tz)
    wall = _WALL_CLOCK.fullmatch(start_text.strip()) if isinstance(start_text, str) else None
    if wall is None or moment.utcoffset() != timedelta(0):
        return moment
    clock = time(int(wall[1]), int(wall[2]))
    local = moment.astimezone(tz)
    if (local.hour, local.minute) == (clock.hour, clock.minute):
        return moment
    # A "Z" timestamp whose <start> is the local time (LSWT's Jekyll template appends "Z" to local times):
    # frab defines <start> as local time, so the offset is the mistake.
    return localize(datetime.combine(datetime.fromisoformat(date_text.strip()[:10]).date(), clock), tz)
