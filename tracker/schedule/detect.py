"""Which schedule format a file is, judged by its content (names and Content-Types lie)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from .errors import ScheduleError


class Format(StrEnum):
    """The schedule formats parse_schedule reads."""

    FRAB_XML = "frab-xml"
    FRAB_JSON = "frab-json"
    SCHEDULE2 = "schedule2"
    ICAL = "ical"
    EVENTFEED = "eventfeed"


def _head(content: bytes) -> bytes:
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:64]


def detect_format(content: bytes) -> Format:
    """The format of a schedule file, from its first bytes and, for JSON, its structure."""
    return sniff(content)[0]


def sniff(content: bytes) -> tuple[Format, Any]:
    """The format of a schedule file and, for JSON formats, the decoded data (None otherwise)."""
    head = _head(content)
    if head.startswith(b"<"):
        return Format.FRAB_XML, None
    if head.upper().startswith(b"BEGIN:VCALENDAR"):
        return Format.ICAL, None
    if head.startswith((b"{", b"[")):
        try:
            data = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ScheduleError(f"malformed JSON: {exc}") from None
        return _json_format(data), data
    raise ScheduleError(f"unknown schedule format: starts with {head[:20]!r}")


def _json_format(data: Any) -> Format:
    """Which JSON schedule format decoded data is."""
    if isinstance(data, list):
        return Format.EVENTFEED
    schedule = data.get("schedule", data) if isinstance(data, dict) else None
    if isinstance(schedule, dict):
        if isinstance(schedule.get("events"), list):
            return Format.SCHEDULE2
        conference = schedule.get("conference")
        if isinstance(conference, dict) and isinstance(conference.get("days"), list):
            return Format.FRAB_JSON
    raise ScheduleError("unknown JSON schedule: expected a list of events, schedule.events or schedule.conference.days")
