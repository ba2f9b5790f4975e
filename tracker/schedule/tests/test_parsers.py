"""Each hand-written fixture covers one quirk of one format."""

import json
from datetime import timedelta

from tracker.schedule import events_for_room, parse_schedule, room_names

from .support import by_title, parse_fixture, utc


def test_eventfeed_durations_each_form_gives_the_end() -> None:
    events = parse_fixture("durations-eventfeed.json")

    lengths = {event.title: event.duration for event in events}

    assert lengths == {
        "HH:MM": timedelta(hours=1, minutes=30),
        "H:MM": timedelta(hours=1, minutes=30),
        "HH:MM:SS": timedelta(hours=1, minutes=30, seconds=15),
        "H:MM:SS": timedelta(minutes=45),
        "timedelta with a day": timedelta(days=1, hours=2),
    }


def test_eventfeed_naive_times_read_in_the_given_timezone() -> None:
    events = parse_fixture("durations-eventfeed.json", timezone="Australia/Melbourne")

    assert by_title(events, "HH:MM").start == utc(2024, 4, 30, 23, 0)  # 09:00 AEST (+10:00)


def test_eventfeed_dst_spring_forward_duration_is_elapsed_time() -> None:
    events = parse_fixture("dst-spring-forward-eventfeed.json")

    night = by_title(events, "Night owl session")

    # 01:30 CET + 2 hours = 04:30 CEST: the wall clock skips 02:00-03:00.
    assert (night.start, night.end) == (utc(2024, 3, 31, 0, 30), utc(2024, 3, 31, 2, 30))


def test_eventfeed_dst_skipped_time_reads_an_hour_later() -> None:
    events = parse_fixture("dst-spring-forward-eventfeed.json")

    assert by_title(events, "Talk at a skipped time").start == utc(2024, 3, 31, 1, 30)  # 03:30 CEST
    assert by_title(events, "Morning talk").start == utc(2024, 3, 31, 8, 0)  # 10:00 CEST


def test_eventfeed_dst_fall_back_end_time_spans_25_hour_day() -> None:
    events = parse_fixture("dst-fall-back-eventfeed.json")

    long_night = by_title(events, "Long night across the change")

    # 01:00 CEST to 04:00 CET is four hours, not three.
    assert long_night.duration == timedelta(hours=4)
    assert by_title(events, "Talk in the repeated hour").start == utc(2024, 10, 27, 0, 30)


def test_frab_xml_dst_day_trusts_explicit_offsets() -> None:
    events = parse_fixture("dst-day-frab.xml", timezone="UTC")

    first, second = events

    assert (first.start, first.end) == (utc(2024, 3, 31, 0, 30), utc(2024, 3, 31, 2, 30))
    assert second.start == first.end
    assert first.speakers == ("Ada",) and second.speakers == ()


def test_frab_json_across_midnight_ends_next_day() -> None:
    events = parse_fixture("across-midnight-frab.json")

    late = by_title(events, "Late night talk")

    assert (late.start, late.end) == (utc(2019, 8, 22, 21, 30), utc(2019, 8, 22, 23, 0))
    assert late.url == "https://example.org/events/1.html"
    assert (late.speakers, late.language, late.track) == (("Grace",), "de", "CCC")
    assert late.abstract == "Runs past midnight."  # description stands in for an empty abstract


def test_frab_json_event_after_midnight_listed_in_previous_day() -> None:
    events = parse_fixture("across-midnight-frab.json")

    assert by_title(events, "After midnight, same day").start == utc(2019, 8, 22, 23, 15)


def test_eventfeed_missing_end_and_duration_lasts_until_next_event_in_room() -> None:
    events = parse_fixture("missing-end-eventfeed.json")

    assert by_title(events, "Open workshop").end == utc(2024, 5, 1, 12, 0)  # 14:00 CEST, the next talk


def test_eventfeed_missing_end_with_nothing_after_lasts_until_midnight() -> None:
    events = parse_fixture("missing-end-eventfeed.json")

    assert by_title(events, "Open end, nothing follows").end == utc(2024, 5, 1, 22, 0)  # 00:00 CEST


def test_eventfeed_end_field_wins_and_url_is_checked() -> None:
    events = parse_fixture("end-or-duration-eventfeed.json")

    with_end, with_offset = by_title(events, "Has an End"), by_title(events, "Has an offset")

    assert with_end.duration == timedelta(minutes=50)
    assert (with_end.speakers, with_end.url, with_end.abstract) == (
        ("Alice", "Bob"),
        "https://example.org/talk/1",
        "Line one\nLine two",
    )
    assert with_offset.start == utc(2024, 5, 1, 11, 0)
    assert with_offset.url == ""  # javascript: never reaches a page


def test_frab_xml_html_abstract_becomes_plain_text() -> None:
    events = parse_fixture("html-abstract-frab.xml")

    markup = by_title(events, "Markup & more")

    assert markup.abstract == "Intro with a link & an entity é.\n\n- first\n\n- second"
    assert "<" not in markup.abstract and "alert" not in markup.abstract
    assert markup.url == "https://example.org/talk/1"
    assert markup.speakers == ("Eve", "Mallory")


def test_frab_xml_pretty_printer_indentation_is_removed() -> None:
    events = parse_fixture("html-abstract-frab.xml")

    indented = by_title(events, "Indented abstract")

    assert indented.abstract == "First paragraph.\n\nContinuation indented by the pretty-printer."
    assert indented.url == ""


def test_frab_xml_z_suffix_on_local_times_is_read_as_local() -> None:
    events = parse_fixture("no-guid-z-suffix.xml", timezone="Europe/Berlin")

    assert by_title(events, "Welcome").start == utc(2019, 5, 22, 7, 0)  # 09:00 CEST, not 09:00 UTC


def test_frab_xml_z_suffix_with_utc_timezone_is_unchanged() -> None:
    events = parse_fixture("no-guid-z-suffix.xml", timezone="UTC")

    assert by_title(events, "Welcome").start == utc(2019, 5, 22, 9, 0)


def test_frab_xml_repeated_ids_without_guid_get_distinct_stable_guids() -> None:
    first = parse_fixture("no-guid-z-suffix.xml")
    again = parse_fixture("no-guid-z-suffix.xml")

    coffees = [event for event in first if event.title == "Coffee"]

    assert len({event.guid for event in coffees}) == 2
    assert [event.guid for event in first] == [event.guid for event in again]


def test_frab_xml_comma_separated_person_and_slug_url() -> None:
    events = parse_fixture("no-guid-z-suffix.xml")

    welcome = by_title(events, "Welcome")

    assert welcome.speakers == ("Dr. A", "B")
    assert welcome.url == "https://example.org/#welcome"


def test_frab_xml_empty_duration_is_open_until_midnight() -> None:
    events = parse_fixture("no-guid-z-suffix.xml")

    assert by_title(events, "Hackathon").end == utc(2019, 5, 22, 22, 0)


def test_ical_ignores_wrong_vtimezone_and_uses_olson_zone() -> None:
    events = parse_fixture("pretalx-wrong-vtimezone.ics", timezone="UTC")

    opening = by_title(events, "Opening - Address")

    # 09:00 ACST is +09:30; the embedded VTIMEZONE claims +09:00.
    assert opening.start == utc(2023, 8, 17, 23, 30)
    assert opening.end == utc(2023, 8, 17, 23, 50)


def test_ical_pretalx_summary_splits_title_and_speakers() -> None:
    events = parse_fixture("pretalx-wrong-vtimezone.ics")

    opening = by_title(events, "Opening - Address")

    assert opening.speakers == ("Jack Skinner", "Lilly Ryan")
    assert opening.abstract == "Commas, semicolons; and a\nnew line."
    assert (opening.room, opening.guid) == ("Hall C (Plenary)", "pretalx-demo-AAAAAA@pretalx.com")


def test_ical_utc_start_with_duration_and_trailing_separator() -> None:
    events = parse_fixture("pretalx-wrong-vtimezone.ics")

    fair = by_title(events, "PyCon Fair")

    assert (fair.start, fair.end, fair.speakers) == (utc(2023, 8, 18, 1, 0), utc(2023, 8, 18, 2, 30), ())
    assert fair.abstract == ""  # the VALARM's DESCRIPTION is not the event's


def test_schedule2_resolves_track_slug_and_keeps_speakers_only() -> None:
    events = parse_fixture("schedule2-minimal.json")

    late = by_title(events, "After midnight")

    assert late.track == "Hardware & Making"
    assert late.speakers == ("Speaker One",)
    assert late.url == "https://example.org/hub/event/one/"
    assert late.start == utc(2024, 12, 27, 23, 15)


def test_schedule2_naive_start_with_duration_and_string_room() -> None:
    events = parse_fixture("schedule2-minimal.json", timezone="UTC")

    naive = by_title(events, "Naive start with a duration")

    # The file declares Europe/Berlin, which describes its naive times better than the caller's zone.
    assert (naive.start, naive.end, naive.room, naive.track) == (
        utc(2024, 12, 28, 9, 0),
        utc(2024, 12, 28, 9, 30),
        "Saal 2",
        "Plain track",
    )


def test_events_for_room_matches_case_and_space_insensitively() -> None:
    events = parse_fixture("no-guid-z-suffix.xml")

    talks = events_for_room(events, "  talks ")

    assert [event.title for event in talks] == ["Welcome", "Coffee"]
    assert room_names(events) == ["Talks", "Tutorials"]


def test_parse_schedule_sorts_by_start() -> None:
    events = parse_fixture("no-guid-z-suffix.xml")

    assert [event.start for event in events] == sorted(event.start for event in events)


def test_one_bad_url_or_control_character_drops_that_text_not_the_schedule() -> None:
    def talk(number: int, **fields: str) -> dict:
        return {
            "title": f"Talk {number}",
            "room": "A",
            "start": f"2024-05-01T1{number}:00+02:00",
            "duration": "0:30",
            **fields,
        }

    content = json.dumps(
        {
            "schedule": {
                "events": [
                    talk(1, url="http://[::1"),
                    talk(2, url="http://["),
                    talk(3, url="https://example.org/ok\r\nX-Evil: 1"),
                    talk(4, title="Talk 4\x00\x1b[31m\ufffe", abstract="fine\x0bline"),
                    talk(5, url="https://example.org/talks/5"),
                ]
            }
        }
    ).encode()

    events = parse_schedule(content, timezone="Europe/Berlin")

    assert [(e.title, e.url) for e in events] == [
        ("Talk 1", ""),
        ("Talk 2", ""),
        ("Talk 3", ""),
        ("Talk 4[31m", ""),
        ("Talk 5", "https://example.org/talks/5"),
    ]
    assert events[3].abstract == "fineline"
