from datetime import datetime, timedelta

import pytest

from tracker.schedule import Event, ScheduleError, with_fillers

from .support import utc

BERLIN = "Europe/Berlin"


def talk(guid: str, start: datetime, minutes: int, room: str = "Saal 1") -> Event:
    return Event(guid=guid, title=f"Talk {guid}", start=start, end=start + timedelta(minutes=minutes), room=room)


def fillers_of(events: list[Event]) -> list[tuple[str, datetime, datetime]]:
    return [(event.filler, event.start, event.end) for event in events if event.generated]


def test_with_fillers_before_first_talk_says_when_it_starts() -> None:
    first = talk("a", utc(2024, 5, 1, 8), 60)  # 10:00 CEST

    events = with_fillers([first], now=utc(2024, 5, 1, 5), timezone=BERLIN)

    before = events[0]
    assert (before.filler, before.end, before.generated) == ("before", first.start, True)
    assert before.title == "Starts Wednesday 1 May at 10:00"
    assert before.start == utc(2024, 5, 1, 4)  # 06:00 CEST, the day change


def test_with_fillers_before_covers_now_days_ahead() -> None:
    first = talk("a", utc(2024, 5, 3, 8), 60)

    events = with_fillers([first], now=utc(2024, 5, 1, 12), timezone=BERLIN)

    assert events[0].filler == "before" and events[0].start <= utc(2024, 5, 1, 12) < events[0].end


def test_with_fillers_gap_over_min_gap_is_a_break() -> None:
    a, b = talk("a", utc(2024, 5, 1, 8), 60), talk("b", utc(2024, 5, 1, 9, 30), 60)

    events = with_fillers([a, b], now=utc(2024, 5, 1, 8), timezone=BERLIN, min_gap=timedelta(minutes=15))

    assert ("break", a.end, b.start) in fillers_of(events)


def test_with_fillers_gap_up_to_min_gap_is_left_alone() -> None:
    a, b = talk("a", utc(2024, 5, 1, 8), 60), talk("b", utc(2024, 5, 1, 9, 15), 60)

    events = with_fillers([a, b], now=utc(2024, 5, 1, 8), timezone=BERLIN, min_gap=timedelta(minutes=15))

    assert [e.filler for e in events if e.generated and a.end <= e.start < b.start] == []


def test_with_fillers_overlapping_talks_make_no_break() -> None:
    long, inner, after = (
        talk("a", utc(2024, 5, 1, 8), 180),
        talk("b", utc(2024, 5, 1, 8, 30), 30),
        talk("c", utc(2024, 5, 1, 11), 30),
    )

    events = with_fillers([long, inner, after], now=utc(2024, 5, 1, 8), timezone=BERLIN)

    assert not [f for f in fillers_of(events) if f[0] == "break"]


def test_with_fillers_across_days_ends_day_and_fills_empty_day() -> None:
    a, b = talk("a", utc(2024, 5, 1, 20), 60), talk("b", utc(2024, 5, 3, 8), 60)  # 22:00 CEST, then 10:00 CEST

    events = with_fillers([a, b], now=utc(2024, 5, 2, 12), timezone=BERLIN)

    assert fillers_of(events)[1:4] == [
        ("end-of-day", a.end, utc(2024, 5, 2, 4)),
        ("nothing-today", utc(2024, 5, 2, 4), utc(2024, 5, 3, 4)),
        ("before", utc(2024, 5, 3, 4), b.start),
    ]
    assert events[2].title == "End of the day; continues Friday 3 May at 10:00"


def test_with_fillers_talk_after_midnight_belongs_to_the_evening() -> None:
    a, b = talk("a", utc(2024, 5, 1, 20), 60), talk("b", utc(2024, 5, 1, 23), 60)  # 22:00 and 01:00 CEST

    events = with_fillers([a, b], now=utc(2024, 5, 1, 20), timezone=BERLIN)

    assert ("break", a.end, b.start) in fillers_of(events)


def test_with_fillers_end_of_day_on_dst_night_ends_at_local_day_change() -> None:
    # 30/31 March 2024: clocks go forward; the day change is 06:00 CEST = 04:00 UTC, not 05:00 UTC.
    a, b = talk("a", utc(2024, 3, 30, 20), 60), talk("b", utc(2024, 3, 31, 8), 60)

    events = with_fillers([a, b], now=utc(2024, 3, 30, 20), timezone=BERLIN)

    assert ("end-of-day", a.end, utc(2024, 3, 31, 4)) in fillers_of(events)


def test_with_fillers_after_last_talk_covers_now() -> None:
    a = talk("a", utc(2024, 5, 1, 8), 60)
    now = utc(2024, 5, 4, 12)

    events = with_fillers([a], now=now, timezone=BERLIN)

    after = events[-1]
    assert (after.filler, after.start) == ("after", a.end) and after.start <= now < after.end


def test_with_fillers_no_talks_at_all_is_programme_unavailable_not_nothing_today() -> None:
    events = with_fillers([], now=utc(2024, 5, 1, 12), timezone=BERLIN, room="Saal 1")

    assert [(e.filler, e.title, e.start, e.end, e.room) for e in events] == [
        ("unavailable", "Programme unavailable", utc(2024, 5, 1, 4), utc(2024, 5, 2, 4), "Saal 1")
    ]


def test_with_fillers_is_idempotent_and_sorted() -> None:
    talks = [talk("a", utc(2024, 5, 1, 8), 60), talk("b", utc(2024, 5, 2, 8), 60)]
    now = utc(2024, 5, 1, 12)

    once = with_fillers(talks, now=now, timezone=BERLIN)
    twice = with_fillers(once, now=now, timezone=BERLIN)

    assert once == twice and [e.start for e in once] == sorted(e.start for e in once)
    assert len({e.guid for e in once}) == len(once)


def test_with_fillers_naive_now_raises_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="timezone-aware"):
        with_fillers([], now=utc(2024, 5, 1).replace(tzinfo=None), timezone=BERLIN)
