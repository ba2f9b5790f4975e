"""frab / pretalx schedule.xml: schedule > day > room > event."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import tzinfo

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from .durations import parse_duration
from .errors import ScheduleError
from .frab import event_start, source_timezone
from .model import Event
from .normalize import Draft, finish
from .text import safe_url


def _parse_xml(content: bytes) -> ET.Element:
    """The root element; a DTD is refused outright, so entity bombs and external entities never expand."""
    try:
        return defusedxml.ElementTree.fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise ScheduleError("XML with a DOCTYPE is refused (entity expansion is not allowed)") from None
    except ET.ParseError as exc:
        raise ScheduleError(f"malformed XML: {exc}") from None


def parse_frab_xml(content: bytes, *, tz: tzinfo) -> list[Event]:
    """Events of every room in a frab-style schedule.xml."""
    root = _parse_xml(content)
    if root.tag != "schedule":
        raise ScheduleError(f"schedule.xml: root element is <{root.tag}>, expected <schedule>")
    conference = root.find("conference")
    declared = conference.findtext("time_zone_name") if conference is not None else None
    base_url = (conference.findtext("base_url") or "") if conference is not None else ""
    zone = source_timezone(declared, tz)
    drafts = [
        _draft(event, room.get("name") or "", zone, base_url)
        for day in root.iter("day")
        for room in day.iter("room")
        for event in room.iter("event")
    ]
    return finish(drafts, zone)


def _text(element: ET.Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def _draft(event: ET.Element, room_name: str, tz: tzinfo, base_url: str) -> Draft:
    source_id = event.get("id") or ""
    where = f"event {event.get('guid') or source_id or _text(event, 'title')!r}"
    duration = _text(event, "duration")
    persons = [person.text or "" for person in event.iterfind("persons/person")]
    if not persons:
        # Hand-rolled files (LSWT) put all speakers into one comma-separated <person>.
        persons = _text(event, "person").split(",")
    return Draft(
        title=_text(event, "title"),
        start=event_start(event.findtext("date"), event.findtext("start"), tz, where),
        room=room_name or _text(event, "room"),
        where=where,
        guid=event.get("guid") or "",
        source_id=source_id,
        duration=parse_duration(duration) if duration else None,
        speakers=persons,
        abstract=_text(event, "abstract") or _text(event, "description"),
        url=safe_url(_text(event, "url") or _text(event, "slug"), base_url),
        language=_text(event, "language"),
        track=_text(event, "track"),
        # frab's and pretalx's own field: <recording><license/><optout>true</optout></recording>.
        do_not_record=_text(event, "recording/optout").lower() == "true",
    )
