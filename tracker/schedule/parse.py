"""The entry point: bytes in, normalized events of every room out."""

from __future__ import annotations

from collections.abc import Iterable

from .detect import Format, sniff
from .errors import ScheduleError
from .eventfeed import parse_eventfeed
from .frab_json import parse_frab_json
from .frab_xml import parse_frab_xml
from .ical import parse_ical
from .model import Event
from .schedule2 import parse_schedule2
from .timezones import get_timezone

# The largest real schedule seen (38C3 hub XML) is about 2 MB; ten times that is a broken or hostile source.
MAX_SCHEDULE_BYTES = 20 * 1024 * 1024


def parse_schedule(content: bytes, *, timezone: str, max_bytes: int = MAX_SCHEDULE_BYTES) -> list[Event]:
    """Events of all rooms, sorted by start; naive times are read in timezone unless the file declares one."""
    if len(content) > max_bytes:
        raise ScheduleError(f"schedule is {len(content)} bytes, over the limit of {max_bytes}")
    tz = get_timezone(timezone)
    kind, data = sniff(content)
    if kind is Format.FRAB_XML:
        return parse_frab_xml(content, tz=tz)
    if kind is Format.ICAL:
        return parse_ical(content, tz=tz)
    if kind is Format.FRAB_JSON:
        return parse_frab_json(data, tz=tz)
    if kind is Format.SCHEDULE2:
        return parse_schedule2(data, tz=tz)
    return parse_eventfeed(data, tz=tz)


def _room_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def events_for_room(events: Iterable[Event], schedule_key: str) -> list[Event]:
    """The events whose source room is schedule_key (ignoring case and runs of spaces), sorted by start."""
    key = _room_key(schedule_key)
    return sorted((event for event in events if _room_key(event.room) == key), key=lambda event: event.start)


def room_names(events: Iterable[Event]) -> list[str]:
    """Every source room name, sorted, to help operators pick a schedule-key."""
    return sorted({event.room for event in events})
