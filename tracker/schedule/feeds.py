"""A room's schedule as RSS 2.0 (now and next), iCalendar, and the dict behind schedule.json."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime, time, tzinfo
from email.utils import format_datetime
from typing import Any

from .fillers import DEFAULT_DAY_CHANGE
from .model import Event, event_to_dict
from .nownext import now_and_next
from .timezones import day_bounds, get_timezone, programme_day


def rss_feed(
    events: Iterable[Event], *, now: datetime, timezone: str, title: str, link: str, description: str = ""
) -> str:
    """RSS 2.0 with a "Now:" item for the running event and a "Next:" item for the next talk (either may be absent)."""
    tz = get_timezone(timezone)
    state = now_and_next(events, now=now)
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = link
    ET.SubElement(channel, "description").text = description or f"What is on now and next: {title}"
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(now.astimezone(UTC), usegmt=True)
    for label, event in (("Now", state.current), ("Next", state.next)):
        if event is None:
            continue
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = f"{label}: {event.title}"
        ET.SubElement(item, "link").text = event.url or link
        ET.SubElement(item, "description").text = _summary(event, tz)
        # Distinct per label, so a reader shows the talk again when it moves from "Next" to "Now".
        ET.SubElement(item, "guid", isPermaLink="false").text = f"{label.lower()}:{event.guid}"
        ET.SubElement(item, "pubDate").text = format_datetime(event.start, usegmt=True)
    # ElementTree escapes every text node, so titles and abstracts cannot inject markup.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode")


def _summary(event: Event, tz: tzinfo) -> str:
    start, end = event.start.astimezone(tz), event.end.astimezone(tz)
    lines = [f"{start:%A} {start.day} {start:%B}, {start:%H:%M} to {end:%H:%M} ({tz})"]
    if event.speakers:
        lines.append(", ".join(event.speakers))
    if event.abstract:
        lines.append(event.abstract)
    return "\n\n".join(lines)


def ics_calendar(events: Iterable[Event], *, now: datetime, name: str) -> str:
    """An iCalendar file of the real talks; times in UTC, so no VTIMEZONE block can be wrong."""
    stamp = _ics_time(now)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//conference-streaming//schedule//EN", "CALSCALE:GREGORIAN"]
    lines.append(f"X-WR-CALNAME:{_ics_text(name)}")
    for event in sorted(events, key=lambda event: (event.start, event.guid)):
        if event.generated:
            continue
        description = "\n\n".join(part for part in (", ".join(event.speakers), event.abstract) if part)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_ics_text(event.guid)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ics_time(event.start)}",
            f"DTEND:{_ics_time(event.end)}",
            f"SUMMARY:{_ics_text(event.title)}",
            f"LOCATION:{_ics_text(event.room)}",
        ]
        if description:
            lines.append(f"DESCRIPTION:{_ics_text(description)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """The line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    parts: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            # A continuation line starts with a space, which counts towards its 75 octets.
            current, size, limit = "", 0, 74
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def schedule_json(
    events: Iterable[Event], *, now: datetime, timezone: str, day_change: time = DEFAULT_DAY_CHANGE
) -> dict[str, Any]:
    """The data of /<room>/schedule.json: now, next and every event of the programme day that contains now."""
    tz = get_timezone(timezone)
    events = list(events)
    state = now_and_next(events, now=now)
    day = programme_day(now, tz, day_change)
    day_start, day_end = day_bounds(day, tz, day_change)
    todays = [event for event in events if event.start < day_end and event.end > day_start]
    return {
        "at": now.astimezone(UTC).isoformat(),
        "timezone": str(tz),
        "date": day.isoformat(),
        "now": event_to_dict(state.current) if state.current else None,
        "next": event_to_dict(state.next) if state.next else None,
        "day": [event_to_dict(event) for event in sorted(todays, key=lambda event: (event.start, event.generated))],
    }
