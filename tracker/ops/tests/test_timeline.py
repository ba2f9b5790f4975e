"""Timelines, time per state and per day, and human units: pure functions."""

from datetime import datetime

import pytz

from tracker.ops import units
from tracker.ops.timeline import Segment, encoder_segments, per_day, room_segments, time_in_states, with_durations


def t(old, new, at, name="cam"):
    return {"room": "example", "name": name, "old": old, "new": new, "reason": "", "at": at}


def test_an_encoders_states_between_its_transitions_up_to_now():
    log = [t(None, "up", 100), t("up", "late", 200), t("late", "down", 210), t("down", "up", 300)]

    segments = encoder_segments(log, start=0, now=400, current="up")

    assert segments == [
        Segment("up", 100, 200),
        Segment("late", 200, 210),
        Segment("down", 210, 300),
        Segment("up", 300, 400),
    ]
    assert time_in_states(segments) == {"up": 200, "late": 10, "down": 90}


def test_the_state_before_the_first_kept_transition_reaches_back_to_the_start_of_history():
    segments = encoder_segments([t("up", "down", 100)], start=40, now=160, current="down")

    assert segments == [Segment("up", 40, 100), Segment("down", 100, 160)]


def test_an_encoder_without_transitions_is_in_its_current_state_all_along():
    assert encoder_segments([], start=0, now=50, current="up") == [Segment("up", 0, 50)]
    assert encoder_segments([], start=0, now=50, current=None) == []


def test_a_room_is_in_the_best_state_of_its_encoders():
    a = [Segment("up", 0, 100), Segment("down", 100, 200)]
    b = [Segment("down", 0, 150), Segment("up", 150, 200)]
    late_joiner = [Segment("degraded", 120, 200)]

    assert room_segments([a, b, late_joiner]) == [
        Segment("up", 0, 100),
        Segment("down", 100, 120),
        Segment("degraded", 120, 150),
        Segment("up", 150, 200),
    ]


def test_days_split_at_midnight_in_the_events_zone():
    zone = pytz.timezone("Europe/Berlin")
    start = zone.localize(datetime(2026, 12, 5, 23, 0)).timestamp()

    days = per_day([Segment("up", start, start + 2 * 3600)], "Europe/Berlin")

    assert days == [("2026-12-05", {"up": 3600}), ("2026-12-06", {"up": 3600})]


def test_each_transition_says_how_long_its_state_lasted():
    rows = with_durations([t(None, "up", 100), t(None, "up", 150, name="mic"), t("up", "down", 300)], now=400)

    assert [row["lasted"] for row in rows] == [200, None, None]


def test_figures_in_human_units():
    assert [units.duration(s) for s in (0, 45, 200, 7500, 90061)] == [
        "0 s",
        "45 s",
        "3 min 20 s",
        "2 h 5 min",
        "1 d 1 h",
    ]
    assert [units.bitrate(b) for b in (0, 800, 128_000, 2_500_000)] == [
        "0 bit/s",
        "800 bit/s",
        "128 kbit/s",
        "2.5 Mbit/s",
    ]
    assert units.data_size(45_300_000) == "45.3 MB"
    assert units.percent(9995, 10000) == "99.95 %"  # an outage never rounds away to 100 %
    assert units.percent(0, 0) == "n/a"
