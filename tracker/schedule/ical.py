"""iCalendar (.ics) as pretalx exports it: one VEVENT per talk, LOCATION is the room.

The icalendar library reads the file (unfolding, escapes, parameters, date-times, durations). A TZID
is read as the Olson (or Windows) zone it names, never by the file's own VTIMEZONE: pretalx's
Australia/Adelaide block says +09:00 instead of +09:30. A TZID no zone database knows, and a floating
time, are read in the source's zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar

from .errors import ScheduleError
from .frab import source_timezone
from .model import Event
from .normalize import Draft, finish
from .text import safe_url
from .timezones import localize

# Longest excerpt of the library's complaint in an error message (it quotes the file).
MESSAGE_CHARS = 160


def parse_ical(content: bytes, *, tz: tzinfo) -> list[Event]:
    """Events of every LOCATION in an iCalendar file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScheduleError(f"iCalendar is not UTF-8: {exc}") from None
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        # One line, however the file broke: the message goes to logs and the dashboard.
        raise ScheduleError(f"iCalendar: {' '.join(str(exc).split())}"[:MESSAGE_CHARS]) from None
    if calendar.name != "VCALENDAR":
        raise ScheduleError("iCalendar: does not start with BEGIN:VCALENDAR")
    zone = source_timezone(_text(calendar, "X-WR-TIMEZONE"), tz)
    # pretalx writes SUMMARY as "<title> - <speaker>, <speaker>" and has no other speaker field.
    from_pretalx = "pretalx" in _text(calendar, "PRODID").lower()
    events = [event for event in calendar.walk("VEVENT") if isinstance(event, icalendar.Event)]
    return finish([_draft(event, index, zone, from_pretalx) for index, event in enumerate(events)], zone)


def _first(component: icalendar.cal.Component, name: str) -> Any:
    """The property's value; the first one when the file repeats it."""
    value = component.get(name)
    return value[0] if isinstance(value, list) else value


def _text(component: icalendar.cal.Component, name: str) -> str:
    value = _first(component, name)
    return "" if value is None else str(value)


def _moment(event: icalendar.Event, name: str, tz: tzinfo, where: str) -> datetime | None:
    """A DATE-TIME (UTC, zoned or floating) as an aware time; a DATE is the start of that day."""
    prop = _first(event, name)
    if prop is None:
        return None
    try:
        value = prop.dt
    except (ValueError, AttributeError):  # the library keeps an unreadable value as a broken property
        raise ScheduleError(f"{where}: bad iCalendar date-time {prop.to_ical().decode()!r}") from None
    if isinstance(value, datetime):
        return localize(value, tz) if value.tzinfo is None else value.astimezone(tz)
    if isinstance(value, date):
        return localize(datetime.combine(value, time(0)), tz)
    raise ScheduleError(f"{where}: {name} is not a date-time")


def _duration(event: icalendar.Event, where: str) -> timedelta | None:
    prop = _first(event, "DURATION")
    if prop is None:
        return None
    value = getattr(prop, "dt", None) if not isinstance(prop, icalendar.prop.vBroken) else None
    if not isinstance(value, timedelta):
        raise ScheduleError(f"{where}: bad iCalendar duration {prop.to_ical().decode()!r}")
    return value


def _draft(event: icalendar.Event, index: int, tz: tzinfo, from_pretalx: bool) -> Draft:
    uid = _text(event, "UID").strip()
    where = f"VEVENT {uid or index!r}"
    start = _moment(event, "DTSTART", tz, where)
    if start is None:
        raise ScheduleError(f"{where}: no DTSTART")
    summary = _text(event, "SUMMARY").strip()
    speakers: list[str] = []
    if from_pretalx and " -" in summary:
        summary, _, names = (summary + " ").rpartition(" - ")
        speakers = names.split(",")
    categories = _first(event, "CATEGORIES")
    return Draft(
        title=summary,
        start=start,
        room=_text(event, "LOCATION"),
        where=where,
        guid=uid,
        end=_moment(event, "DTEND", tz, where),
        duration=_duration(event, where),
        speakers=speakers,
        abstract=_text(event, "DESCRIPTION"),
        url=safe_url(_text(event, "URL")),
        language=_text(event, "LANGUAGE"),
        track=str(categories.cats[0]) if categories is not None and categories.cats else "",
    )
