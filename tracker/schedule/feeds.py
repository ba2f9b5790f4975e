"""A room's schedule as RSS 2.0 (now and next), iCalendar, and the dict behind schedule.json."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, tzinfo
from email.utils import format_datetime
from typing import Any

import icalendar

from ..safetext import clean
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
    # ElementTree escapes every text node, so titles and abstracts cannot inject markup; characters
    # XML cannot carry at all (most controls, U+FFFE) would make the feed invalid, so they go.
    for element in rss.iter():
        element.text = clean(element.text) if element.text else element.text
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
    """An iCalendar file of the real talks; times in UTC, so no VTIMEZONE block can be wrong.

    The icalendar library escapes text (commas, semicolons, backslashes,
    newlines) and folds long lines as RFC 5545 says, so no title or abstract
    can start a property or an event of its own.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//conference-streaming//schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", icalendar.vText(name))
    for event in sorted(events, key=lambda event: (event.start, event.guid)):
        if event.generated:
            continue
        entry = icalendar.Event()
        entry.add("uid", event.guid)
        entry.add("dtstamp", now.astimezone(UTC))
        entry.add("dtstart", event.start)
        entry.add("dtend", event.end)
        entry.add("summary", event.title)
        entry.add("location", event.room)
        description = "\n\n".join(part for part in (", ".join(event.speakers), event.abstract) if part)
        if description:
            entry.add("description", description)
        if event.url:
            entry.add("url", event.url)  # safe_url: http(s), no spaces or line breaks
        calendar.add_component(entry)
    return calendar.to_ical().decode()


def schedule_json(
    events: Iterable[Event],
    *,
    now: datetime,
    timezone: str,
    day: date | None = None,
    day_change: time = DEFAULT_DAY_CHANGE,
) -> dict[str, Any]:
    """The data of /<room>/schedule.json: now, next, the programme days that hold talks, and
    every event of one programme day: `day`, by default the one that contains now."""
    tz = get_timezone(timezone)
    events = list(events)
    state = now_and_next(events, now=now)
    day = day or programme_day(now, tz, day_change)
    day_start, day_end = day_bounds(day, tz, day_change)
    todays = [event for event in events if event.start < day_end and event.end > day_start]
    return {
        "at": now.astimezone(UTC).isoformat(),
        "timezone": str(tz),
        "date": day.isoformat(),
        "days": programme_days(events, tz, day_change),
        "now": event_to_dict(state.current) if state.current else None,
        "next": event_to_dict(state.next) if state.next else None,
        "day": [event_to_dict(event) for event in sorted(todays, key=lambda event: (event.start, event.generated))],
    }


def programme_days(events: Iterable[Event], tz: tzinfo, day_change: time = DEFAULT_DAY_CHANGE) -> list[str]:
    """The programme days (ISO dates) on which a talk starts, fillers aside: a page's day switcher."""
    return sorted({programme_day(event.start, tz, day_change).isoformat() for event in events if not event.generated})
