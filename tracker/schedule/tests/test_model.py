from datetime import datetime

import pytest

from tracker.schedule import Event, ScheduleError, event_from_dict, event_to_dict
from tracker.schedule.timezones import get_timezone, localize

from .support import utc


def test_event_stores_times_in_utc() -> None:
    start = localize(datetime(2024, 5, 1, 10, 0), get_timezone("Europe/Berlin"))

    event = Event(guid="g", title="T", start=start, end=start, room="R")

    assert event.start == utc(2024, 5, 1, 8) and event.start.utcoffset().total_seconds() == 0


def test_event_naive_time_raises_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="timezone-aware"):
        Event(guid="g", title="T", start=datetime(2024, 5, 1), end=utc(2024, 5, 1), room="R")


def test_event_to_dict_round_trips() -> None:
    event = Event(
        guid="g", title="T", start=utc(2024, 5, 1, 8), end=utc(2024, 5, 1, 9), room="R", speakers=("A", "B"), url="u"
    )

    assert event_from_dict(event_to_dict(event)) == event


def test_event_from_dict_missing_key_raises_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="lacks 'start'"):
        event_from_dict({"guid": "g", "title": "T", "end": "2024-05-01T09:00:00+00:00", "room": "R"})
