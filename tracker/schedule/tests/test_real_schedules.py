"""Every real schedule in real/ (copies of public conferences' files, SOURCES.md says whose and under which
licence) parses, with counts and known events checked against the file."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import pytz

from tracker.schedule import Event, events_for_room, parse_schedule, room_names

from .support import by_title, utc

REAL = Path(__file__).resolve().parent / "real"

MARKUP = re.compile(r"</?(?:a|p|ul|ol|li|br|em|strong|script|div)\b", re.IGNORECASE)

# file: (timezone for the room config, events, rooms)
EXPECTED = {
    "39c3-hub-schedule.xml": ("Europe/Berlin", 215, 14),
    "lswt2019-jekyll-schedule.xml": ("Europe/Berlin", 31, 4),
    "camp2019-frab-schedule.json": ("Europe/Berlin", 79, 2),
    "rc3-channels-2020-pretalx-schedule.json": ("Europe/Berlin", 48, 5),
    "38c3-hub-schedule2-example.json": ("Europe/Berlin", 2, 2),
    "pyconau2023-pretalx-schedule.ics": ("Australia/Adelaide", 94, 4),
    "lca2016-zookeepr-eventfeed.json": ("Australia/Melbourne", 137, 11),
}


@pytest.fixture(scope="module")
def real() -> Path:
    return REAL


def load(real: Path, name: str) -> list[Event]:
    timezone = EXPECTED[name][0]
    return parse_schedule((real / name).read_bytes(), timezone=timezone)


def test_real_schedules_folder_has_no_unchecked_file(real: Path) -> None:
    names = {path.name for path in real.iterdir() if path.is_file() and path.name != "SOURCES.md"}

    assert names == set(EXPECTED), "add counts for new files to EXPECTED"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_schedule_parses_with_expected_counts(real: Path, name: str) -> None:
    _, event_count, room_count = EXPECTED[name]

    events = load(real, name)

    assert (len(events), len(room_names(events))) == (event_count, room_count)
    assert all(event.end >= event.start and event.title and not event.generated for event in events)
    assert not [event.guid for event in events if MARKUP.search(event.abstract)]


def test_39c3_xml_known_event_and_rooms(real: Path) -> None:
    events = load(real, "39c3-hub-schedule.xml")

    talk = by_title(events, "All my Deutschlandtickets gone: Fraud at an industrial scale")

    assert (talk.start, talk.end, talk.room) == (utc(2025, 12, 27, 15, 0), utc(2025, 12, 27, 16, 0), "One")
    assert (talk.speakers, talk.track, talk.language, talk.guid) == (
        ("Q Misell", "maya / 551724"),
        "Security",
        "en",
        "a2dd3dc7-ecae-50b3-82d9-266ad02f7a40",
    )
    assert len(events_for_room(events, "One")) == 44
    assert by_title(events, "test-andi2").room == "andi-test-raum"


def test_39c3_xml_after_midnight_event_listed_in_previous_day(real: Path) -> None:
    events = load(real, "39c3-hub-schedule.xml")

    late = by_title(events, "GPTDash \u2013 Der Reverse-Turing-Test")

    assert (late.start, late.end) == (utc(2025, 12, 29, 0, 0), utc(2025, 12, 29, 1, 30))  # 01:00 CET


def test_39c3_xml_midnight_spans_and_indentation(real: Path) -> None:
    berlin = pytz.timezone("Europe/Berlin")
    events = load(real, "39c3-hub-schedule.xml")

    ends = [event.end.astimezone(berlin) for event in events]
    crossing = [e for e in events if e.start.astimezone(berlin).date() != e.end.astimezone(berlin).date()]

    # SOURCES.md: 11 events span midnight and 4 end exactly at 00:00 (which is the next date too).
    assert len(crossing) == 15
    assert sum(1 for end in ends if end.strftime("%H:%M") == "00:00") == 4
    assert not any(line.startswith(" ") for event in events for line in event.abstract.split("\n"))


def test_lswt_xml_z_times_are_local_and_quirks_survive(real: Path) -> None:
    events = load(real, "lswt2019-jekyll-schedule.xml")

    welcome = by_title(events, "Welcome")
    hackathon = events_for_room(events, "Hackathon")[0]

    assert welcome.start == utc(2019, 5, 22, 7, 0)  # 09:00 CEST although the file says 09:00Z
    assert welcome.speakers == ("Dr. Sebastian Tramp", "Andreas Heinecke")
    assert Counter(event.room for event in events) == {
        "Vorträge": 24,
        "Tutorials": 5,
        "Hackathon": 1,
        "Social Event": 1,
    }
    assert (hackathon.start, hackathon.end) == (utc(2019, 5, 22, 7, 40), utc(2019, 5, 22, 22, 0))  # empty duration
    assert "Mediencampus Villa Ida" in hackathon.abstract and "<p>" not in hackathon.abstract
    assert len([event for event in events if event.title == "Mittagspause"]) == 2  # id 998 in two rooms


def test_camp2019_json_across_midnight_and_html_abstract(real: Path) -> None:
    events = load(real, "camp2019-frab-schedule.json")

    late = by_title(events, "Achtung, Datenpannen!")
    spispy = by_title(events, "spispy: SPI flash device emulation")

    assert (late.start, late.end, late.room) == (utc(2019, 8, 22, 21, 0), utc(2019, 8, 22, 22, 30), "Meitner")
    assert spispy.abstract.startswith("spispy is an open source hardware tool")
    assert by_title(events, "Opening Ceremony").speakers == ("jinxx", "smtw")
    assert (len(events_for_room(events, "Curie")), len(events_for_room(events, "Meitner"))) == (41, 38)


def test_rc3_pretalx_json_offsets_and_long_room_names(real: Path) -> None:
    events = load(real, "rc3-channels-2020-pretalx-schedule.json")

    first = events[0]

    assert first.title == "Der faule Admin automatisiert: Gluon auf echter Hardware testen"
    assert (first.start, first.duration, first.room) == (
        utc(2020, 12, 27, 10, 30),
        timedelta(minutes=40),
        "r3s - Monheim/Rhein",
    )
    assert (first.speakers, first.language) == (("Chris Fiege", "Kasa"), "de")
    assert [e.title for e in events_for_room(events, "hacc München / about:future - München")] == [
        "Climate Change and the Corona Pandemic"
    ]


def test_38c3_schedule2_events_and_roles(real: Path) -> None:
    events = load(real, "38c3-hub-schedule2-example.json")

    opening, late = events

    assert (opening.title, opening.start, opening.end, opening.room) == (
        "38C3: Opening Ceremony",
        utc(2024, 12, 27, 9, 30),
        utc(2024, 12, 27, 10, 0),
        "Saal 1",
    )
    assert opening.speakers == ("Gabriela Bogk", "Aline Blankertz")  # the CONTRIBUTOR is not a speaker
    assert (late.room, late.start, late.track) == ("Saal ZIGZAG", utc(2024, 12, 27, 23, 15), "Hardware & Making")


def test_pyconau_ics_real_offset_despite_wrong_vtimezone(real: Path) -> None:
    events = parse_schedule((real / "pyconau2023-pretalx-schedule.ics").read_bytes(), timezone="UTC")

    opening = by_title(events, "Specialist Tracks Combined Opening Address")
    roll = by_title(events, "Roll for Initiative: how to make the world of AI a more ethical place")

    assert opening.start == utc(2023, 8, 17, 23, 30)  # 09:00 ACST (+09:30)
    assert len(opening.speakers) == 5 and opening.speakers[1] == "Jack Skinner"
    assert (roll.start, roll.end, roll.speakers) == (
        utc(2023, 8, 17, 23, 50),
        utc(2023, 8, 18, 0, 20),
        ("J. Rosenbaum",),
    )
    assert by_title(events, "PyCon Fair").speakers == ()
    assert min(e.duration for e in events) == timedelta(minutes=10)
    assert max(e.duration for e in events) == timedelta(minutes=110)


def test_lca2016_eventfeed_naive_melbourne_times(real: Path) -> None:
    events = load(real, "lca2016-zookeepr-eventfeed.json")

    rr = by_title(events, 'Record and replay debugging with "rr"')
    dinner = by_title(events, "Speakers' Dinner")

    assert (rr.start, rr.end, rr.room) == (utc(2016, 2, 4, 4, 40), utc(2016, 2, 4, 5, 25), "D4.303 Costa Theatre")
    assert (rr.speakers, rr.guid, rr.url) == (
        ("Robert O'Callahan",),
        "2",
        "https://linux.conf.au/schedule/30013/view_talk",
    )
    assert (dinner.duration, dinner.speakers, dinner.url) == (timedelta(hours=4), (), "")
    assert len([event for event in events if event.title == "Morning Tea"]) == 5


# file: talks whose speakers opted out of recording, by the format's own field
OPTED_OUT = {
    "39c3-hub-schedule.xml": 6,  # <recording><optout>true</optout></recording>
    "rc3-channels-2020-pretalx-schedule.json": 3,  # "do_not_record": true
    "camp2019-frab-schedule.json": 0,  # "do_not_record": false everywhere
    "38c3-hub-schedule2-example.json": 0,  # "recording": "RECORD_BY_DEFAULT"
    "lca2016-zookeepr-eventfeed.json": 0,  # "video_release": "True" everywhere
}


@pytest.mark.parametrize("name", sorted(OPTED_OUT))
def test_talks_opted_out_of_recording_are_marked(real: Path, name: str) -> None:
    events = load(real, name)

    assert sum(event.do_not_record for event in events) == OPTED_OUT[name]
    assert not [event.guid for event in events if event.do_not_record and event.recording]


def test_schedule2_recording_links_and_opt_out(real: Path) -> None:
    data = json.loads((real / "38c3-hub-schedule2-example.json").read_bytes())
    first, second = data["schedule"]["events"][:2]
    first["links"].append({"type": "RECORDING", "url": "https://media.example/v/opening"})
    second["links"] = [{"type": "VIDEO", "url": "javascript:alert(1)"}]
    second["recording"] = "DO_NOT_RECORD"

    events = {e.guid: e for e in parse_schedule(json.dumps(data).encode(), timezone="Europe/Berlin")}

    assert (events[first["guid"]].recording, events[first["guid"]].do_not_record) == (
        "https://media.example/v/opening",
        False,
    )
    assert (events[second["guid"]].recording, events[second["guid"]].do_not_record) == ("", True)
