"""Conference schedules: parse every known format into events, add fillers, find now and next, render feeds."""

from .detect import Format, detect_format
from .durations import parse_duration
from .errors import ScheduleError
from .feeds import ics_calendar, rss_feed, schedule_json
from .fillers import DEFAULT_DAY_CHANGE, DEFAULT_MIN_GAP, with_fillers
from .model import Event, event_from_dict, event_to_dict
from .nownext import NowNext, next_boundary, now_and_next
from .parse import MAX_SCHEDULE_BYTES, events_for_room, parse_schedule, room_names

__all__ = [
    "DEFAULT_DAY_CHANGE",
    "DEFAULT_MIN_GAP",
    "MAX_SCHEDULE_BYTES",
    "Event",
    "Format",
    "NowNext",
    "ScheduleError",
    "detect_format",
    "event_from_dict",
    "event_to_dict",
    "events_for_room",
    "ics_calendar",
    "next_boundary",
    "now_and_next",
    "parse_duration",
    "parse_schedule",
    "room_names",
    "rss_feed",
    "schedule_json",
    "with_fillers",
]
