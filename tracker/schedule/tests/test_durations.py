from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.schedule import ScheduleError, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01:30", timedelta(hours=1, minutes=30)),
        ("1:30", timedelta(hours=1, minutes=30)),
        ("00:10", timedelta(minutes=10)),
        ("01:30:15", timedelta(hours=1, minutes=30, seconds=15)),
        ("0:45:00", timedelta(minutes=45)),
        ("1 day, 2:00:00", timedelta(days=1, hours=2)),
        ("2 days, 0:05:00", timedelta(days=2, minutes=5)),
        ("0:00:01.500000", timedelta(seconds=1, microseconds=500000)),
        (" 05:00 ", timedelta(hours=5)),
    ],
)
def test_parse_duration_accepts_schedule_forms(text: str, expected: timedelta) -> None:
    # Arrange: the parametrized text. Act:
    result = parse_duration(text)

    # Assert
    assert result == expected


@pytest.mark.parametrize("text", ["", "90", "90 minutes", "1:75", "01:30:99", "-1:00", "1 day 2:00:00", "1h30"])
def test_parse_duration_rejects_other_forms(text: str) -> None:
    with pytest.raises(ScheduleError, match="bad duration"):
        parse_duration(text)


@settings(database=None)
@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
def test_parse_duration_round_trips_str_of_timedelta(duration: timedelta) -> None:
    assert parse_duration(str(duration)) == duration


@settings(database=None)
@given(st.integers(min_value=0, max_value=99), st.integers(min_value=0, max_value=59))
def test_parse_duration_round_trips_hh_mm(hours: int, minutes: int) -> None:
    assert parse_duration(f"{hours:02d}:{minutes:02d}") == timedelta(hours=hours, minutes=minutes)
