import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import icalendar

from tracker.schedule import Event, ics_calendar, rss_feed, schedule_json, with_fillers
from tracker.schedule.ical import parse_ical
from tracker.schedule.timezones import get_timezone

from .support import utc

BERLIN = "Europe/Berlin"
A = Event(
    guid="a",
    title="Talk <A> & friends",
    start=utc(2024, 5, 1, 8),
    end=utc(2024, 5, 1, 9),
    room="Saal 1",
    speakers=("Ada", "Grace"),
    abstract="Plain, with; specials\nand a line that is long enough to need folding in an iCalendar file, ünïcödé.",
    url="https://example.org/a",
)
B = Event(guid="b", title="Talk B", start=utc(2024, 5, 1, 9, 30), end=utc(2024, 5, 1, 10), room="Saal 1")


def items(feed: str) -> list[str]:
    return [item.findtext("title") for item in ET.fromstring(feed.split("\n", 1)[1]).iter("item")]


def test_rss_feed_has_now_and_next_items() -> None:
    feed = rss_feed([A, B], now=A.start, timezone=BERLIN, title="Saal 1", link="https://example.org/saal1")

    assert items(feed) == ["Now: Talk <A> & friends", "Next: Talk B"]
    assert "Talk &lt;A&gt; &amp; friends" in feed
    assert "Wednesday 1 May, 10:00 to 11:00 (Europe/Berlin)" in feed


def test_rss_feed_one_event_before_it_has_only_next() -> None:
    feed = rss_feed([B], now=A.start, timezone=BERLIN, title="Saal 1", link="https://example.org/saal1")

    assert items(feed) == ["Next: Talk B"]
    assert "<link>https://example.org/saal1</link>" in feed  # B has no url: the channel link stands in


def test_rss_feed_zero_events_is_a_valid_empty_channel() -> None:
    feed = rss_feed([], now=A.start, timezone=BERLIN, title="Saal 1", link="https://example.org/saal1")

    channel = ET.fromstring(feed.split("\n", 1)[1]).find("channel")
    assert items(feed) == [] and channel.findtext("title") == "Saal 1" and channel.findtext("description")


def test_rss_feed_during_break_shows_the_filler_as_now() -> None:
    events = with_fillers([A, B], now=A.end, timezone=BERLIN)

    feed = rss_feed(events, now=A.end, timezone=BERLIN, title="Saal 1", link="https://example.org/saal1")

    assert items(feed) == ["Now: Break", "Next: Talk B"]


def test_ics_calendar_round_trips_through_the_parser() -> None:
    events = with_fillers([A, B], now=A.start, timezone=BERLIN)

    text = ics_calendar(events, now=A.start, name="Saal 1")
    parsed = parse_ical(text.encode(), tz=get_timezone("UTC"))

    assert [(e.guid, e.title, e.start, e.end, e.room) for e in parsed] == [
        (e.guid, e.title, e.start, e.end, e.room) for e in (A, B)
    ]
    assert parsed[0].abstract.startswith("Ada, Grace\n\nPlain, with; specials\nand a line")


def test_ics_calendar_lines_are_crlf_and_folded_at_75_octets() -> None:
    text = ics_calendar([A], now=A.start, name="Saal 1")

    lines = text.split("\r\n")

    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    assert max(len(line.encode()) for line in lines) <= 75
    assert "DTSTART:20240501T080000Z" in lines


def test_ics_calendar_no_events_is_an_empty_calendar() -> None:
    text = ics_calendar([], now=A.start, name="Saal 1")

    assert "BEGIN:VEVENT" not in text and text.startswith("BEGIN:VCALENDAR\r\n")


def test_schedule_json_has_now_next_and_the_day() -> None:
    other_day = Event(
        guid="c", title="Tomorrow", start=A.start + timedelta(days=1), end=A.end + timedelta(days=1), room="Saal 1"
    )
    events = with_fillers([A, B, other_day], now=A.start, timezone=BERLIN)

    data = schedule_json(events, now=A.start + timedelta(minutes=5), timezone=BERLIN)

    assert (data["now"]["guid"], data["next"]["guid"], data["date"]) == ("a", "b", "2024-05-01")
    assert [e["title"] for e in data["day"] if not e["generated"]] == ["Talk <A> & friends", "Talk B"]
    assert json.loads(json.dumps(data)) == data


def test_schedule_json_empty_room_has_no_now_or_next() -> None:
    data = schedule_json([], now=A.start, timezone=BERLIN)

    assert (data["now"], data["next"], data["day"], data["timezone"]) == (None, None, [], BERLIN)


HOSTILE = Event(
    guid="evil\r\nUID:other",
    title="Talk\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected",
    start=utc(2024, 5, 1, 8),
    end=utc(2024, 5, 1, 9),
    room="Saal 1;X-EVIL=1",
    abstract="<script>alert(1)</script>\x01\x0b\ufffe ]]> &amp;",
    url="https://example.org/a?x=1;y=2,z",
)


def test_ics_text_with_line_breaks_and_separators_adds_no_property_or_event() -> None:
    text = ics_calendar([HOSTILE], now=A.start, name="Saal\r\nX-INJECTED:1")

    calendar = icalendar.Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")

    assert str(event["SUMMARY"]) == HOSTILE.title.replace("\r\n", "\n")
    assert str(event["UID"]) == HOSTILE.guid.replace("\r\n", "\n")
    assert str(event["LOCATION"]) == HOSTILE.room
    assert "X-INJECTED" not in calendar
    assert max(len(line.encode()) for line in text.split("\r\n")) <= 75


def test_rss_strips_what_xml_cannot_carry_and_escapes_markup() -> None:
    feed = rss_feed([HOSTILE], now=HOSTILE.start, timezone="UTC", title="Saal\x00 1", link="https://example.org/\x1b")

    channel = ET.fromstring(feed.split("\n", 1)[1]).find("channel")

    assert channel.findtext("title") == "Saal 1"
    assert channel.findtext("link") == "https://example.org/"
    assert "<script>" in channel.find("item").findtext("description")  # text, not markup
    assert "\x01" not in feed and "\ufffe" not in feed
