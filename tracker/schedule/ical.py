"""iCalendar (.ics) as pretalx exports it: one VEVENT per talk, LOCATION is the room."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo

import pytz

from .durations import parse_iso_duration
from .errors import ScheduleError
from .frab import source_timezone
from .model import Event
from .normalize import Draft, finish
from .text import safe_url
from .timezones import localize

_ESCAPES = {"\\\\": "\\", "\\,": ",", "\\;": ";", "\\n": "\n", "\\N": "\n"}


@dataclass
class _Property:
    value: str
    params: dict[str, str] = field(default_factory=dict)


def parse_ical(content: bytes, *, tz: tzinfo) -> list[Event]:
    """Events of every LOCATION in an iCalendar file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScheduleError(f"iCalendar is not UTF-8: {exc}") from None
    calendar, events = _components(text)
    zone = source_timezone(calendar.get("X-WR-TIMEZONE", _Property("")).value, tz)
    # pretalx writes SUMMARY as "<title> - <speaker>, <speaker>" and has no other speaker field.
    from_pretalx = "pretalx" in calendar.get("PRODID", _Property("")).value.lower()
    return finish([_draft(props, index, zone, from_pretalx) for index, props in enumerate(events)], zone)


def _components(text: str) -> tuple[dict[str, _Property], list[dict[str, _Property]]]:
    """Properties of VCALENDAR and of each VEVENT; VTIMEZONE and VALARM blocks are skipped."""
    # Unfold: a line break followed by one space or tab continues the line (RFC 5545 3.1); LF-only files exist.
    lines = re.sub(r"\r?\n[ \t]", "", text).splitlines()
    if not lines or lines[0].strip().upper() != "BEGIN:VCALENDAR":
        raise ScheduleError("iCalendar: does not start with BEGIN:VCALENDAR")
    calendar: dict[str, _Property] = {}
    events: list[dict[str, _Property]] = []
    stack: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        name, params, value = _content_line(line, number)
        if name == "BEGIN":
            stack.append(value.upper())
            if stack == ["VCALENDAR", "VEVENT"]:
                events.append({})
        elif name == "END":
            if not stack or stack.pop() != value.upper():
                raise ScheduleError(f"iCalendar line {number}: END:{value} does not close an open component")
        elif stack == ["VCALENDAR"]:
            calendar[name] = _Property(value, params)
        elif stack == ["VCALENDAR", "VEVENT"]:
            events[-1][name] = _Property(value, params)
    if stack:
        raise ScheduleError(f"iCalendar: {stack[-1]} is never closed")
    return calendar, events


def _content_line(line: str, number: int) -> tuple[str, dict[str, str], str]:
    """Name, parameters and value of "NAME;PARAM=x;PARAM="y:z":value"."""
    in_quotes = False
    for position, char in enumerate(line):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            head, value = line[:position], line[position + 1 :]
            break
    else:
        raise ScheduleError(f"iCalendar line {number}: no ':' in {line[:60]!r}")
    name, *raw_params = head.split(";")
    params = {}
    for raw in raw_params:
        key, _, param_value = raw.partition("=")
        params[key.upper()] = param_value.strip('"')
    return name.upper(), params, value


def _unescape(value: str) -> str:
    return re.sub(r"\\[\\,;nN]", lambda match: _ESCAPES[match[0]], value)


def _moment(prop: _Property, tz: tzinfo, where: str) -> datetime:
    """A DATE-TIME in UTC ("Z"), with a TZID, or floating; a DATE is the start of that day."""
    value = prop.value.strip()
    try:
        if prop.params.get("VALUE", "").upper() == "DATE" or re.fullmatch(r"\d{8}", value):
            return localize(datetime.combine(date(int(value[:4]), int(value[4:6]), int(value[6:8])), time(0)), tz)
        naive = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError:
        raise ScheduleError(f"{where}: bad iCalendar date-time {value!r}") from None
    if value.endswith("Z"):
        return pytz.utc.localize(naive)
    # The embedded VTIMEZONE is ignored on purpose: pretalx's Australia/Adelaide block says +09:00 instead of
    # +09:30. The TZID names an Olson zone, and pytz knows that zone's real offsets.
    zone_name = prop.params.get("TZID", "")
    zone = tz
    if zone_name:
        try:
            zone = pytz.timezone(zone_name)
        except pytz.UnknownTimeZoneError:
            zone = tz  # a non-Olson TZID (Outlook's "W. Europe Standard Time"): the room's zone is the best guess
    return localize(naive, zone)


def _draft(props: dict[str, _Property], index: int, tz: tzinfo, from_pretalx: bool) -> Draft:
    uid = _unescape(props["UID"].value).strip() if "UID" in props else ""
    where = f"VEVENT {uid or index!r}"
    if "DTSTART" not in props:
        raise ScheduleError(f"{where}: no DTSTART")
    summary = _unescape(props["SUMMARY"].value).strip() if "SUMMARY" in props else ""
    speakers: list[str] = []
    if from_pretalx and " -" in summary:
        summary, _, names = (summary + " ").rpartition(" - ")
        speakers = names.split(",")
    duration = props.get("DURATION")
    return Draft(
        title=summary,
        start=_moment(props["DTSTART"], tz, where),
        room=_unescape(props["LOCATION"].value) if "LOCATION" in props else "",
        where=where,
        guid=uid,
        end=_moment(props["DTEND"], tz, where) if "DTEND" in props else None,
        duration=parse_iso_duration(duration.value) if duration else None,
        speakers=speakers,
        abstract=_unescape(props["DESCRIPTION"].value) if "DESCRIPTION" in props else "",
        url=safe_url(props["URL"].value) if "URL" in props else "",
        language=props["LANGUAGE"].value if "LANGUAGE" in props else "",
        track=_unescape(props["CATEGORIES"].value).split(",")[0] if "CATEGORIES" in props else "",
    )
