"""Bad input gives a ScheduleError naming what is wrong, never a KeyError or a parser's own exception."""

import pytest

from tracker.schedule import ScheduleError, parse_schedule

from .support import FIXTURES, parse_fixture


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("entity-bomb.xml", "DOCTYPE is refused"),
        ("malformed.json", "malformed JSON"),
        ("end-before-start-schedule2.json", "'Backwards'.*before it starts"),
        ("duplicate-guids-frab.json", "duplicate guid '66666666-0000-0000-0000-000000000001'"),
        ("unknown-timezone-frab.json", "unknown time zone 'Mars/Olympus_Mons'"),
        ("bad-duration-eventfeed.json", "bad duration '90 minutes'"),
    ],
)
def test_parse_schedule_bad_fixture_raises_schedule_error(name: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_fixture(name)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "unknown schedule format"),
        (b"hello", "unknown schedule format"),
        (b"<schedule><day>", "malformed XML"),
        (b"<html><body>404</body></html>", "root element is <html>"),
        (b'{"rooms": []}', "unknown JSON schedule"),
        (b"[1, 2]", "item 0 is not an object"),
        (b'[{"Title": "x", "Room Name": "R"}]', "no Start"),
        (b'[{"Title": "", "Room Name": "R", "Start": "2024-05-01 10:00:00"}]', "no title"),
        (b'{"schedule": {"conference": {"days": [{"rooms": {"A": [{"title": "x"}]}}]}}}', "no date"),
        (b'{"schedule": {"conference": {"days": [{"rooms": []}]}}}', "day 0 rooms is missing or not an object"),
        (b'{"schedule": {"events": [{"title": "x", "room": "R"}]}}', "no start"),
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n", "no DTSTART"),
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:tomorrow\nEND:VEVENT\nEND:VCALENDAR\n", "bad iCalendar date-time"),
        # An unclosed component leaves no complete calendar (icalendar's words, on one line).
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n", "no components where exactly one is required: BEGIN"),
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\n", "no components where exactly one is required"),
        (b"BEGIN:VCALENDAR\nno colon here\nEND:VCALENDAR\n", "could not be parsed into parts: 'no colon here'"),
        (
            b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20240101T100000Z\nDURATION:soon\nEND:VEVENT\nEND:VCALENDAR\n",
            "bad iCalendar duration 'soon'",
        ),
    ],
)
def test_parse_schedule_bad_content_raises_schedule_error(content: bytes, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(content, timezone="Europe/Berlin")


def test_parse_schedule_over_size_cap_raises_schedule_error() -> None:
    content = (FIXTURES / "durations-eventfeed.json").read_bytes()

    with pytest.raises(ScheduleError, match="over the limit of 100"):
        parse_schedule(content, timezone="Europe/Berlin", max_bytes=100)


def test_parse_schedule_unknown_room_timezone_raises_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="unknown time zone 'Europe/Atlantis'"):
        parse_schedule(b"[]", timezone="Europe/Atlantis")


def test_parse_schedule_external_entity_is_refused() -> None:
    content = b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><schedule>&x;</schedule>'

    with pytest.raises(ScheduleError, match="DOCTYPE"):
        parse_schedule(content, timezone="UTC")


def test_ical_parser_refuses_a_lone_event() -> None:
    from tracker.schedule.ical import parse_ical
    from tracker.schedule.timezones import get_timezone

    with pytest.raises(ScheduleError, match="does not start with BEGIN:VCALENDAR"):
        parse_ical(b"BEGIN:VEVENT\nDTSTART:20240101T100000Z\nEND:VEVENT\n", tz=get_timezone("UTC"))
