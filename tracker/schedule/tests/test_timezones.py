from datetime import datetime, time

import pytest

from tracker.schedule import ScheduleError
from tracker.schedule.timezones import day_bounds, get_timezone, localize, parse_datetime, programme_day

from .support import utc

BERLIN = get_timezone("Europe/Berlin")


def test_get_timezone_unknown_name_raises_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="unknown time zone 'Mars/Base'"):
        get_timezone("Mars/Base")


def test_localize_skipped_hour_reads_as_an_hour_later() -> None:
    moment = localize(datetime(2024, 3, 31, 2, 30), BERLIN)

    assert moment == utc(2024, 3, 31, 1, 30)


def test_localize_repeated_hour_is_the_first_occurrence() -> None:
    moment = localize(datetime(2024, 10, 27, 2, 30), BERLIN)

    assert moment == utc(2024, 10, 27, 0, 30)


def test_localize_uses_the_offset_of_the_date_not_lmt() -> None:
    # replace(tzinfo=pytz zone) would give Berlin's 1893 local mean time (+00:53); localize gives CEST.
    moment = localize(datetime(2024, 7, 1, 12, 0), BERLIN)

    assert moment.utcoffset().total_seconds() == 2 * 3600


def test_parse_datetime_keeps_an_explicit_offset() -> None:
    assert parse_datetime("2024-05-01T10:00:00+00:00", BERLIN) == utc(2024, 5, 1, 10)


def test_parse_datetime_bad_text_raises_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="bad date-time 'tomorrow'"):
        parse_datetime("tomorrow", BERLIN)


def test_day_bounds_on_dst_day_lasts_23_hours() -> None:
    start, end = day_bounds(datetime(2024, 3, 31).date(), BERLIN, time(0))

    assert (end - start).total_seconds() == 23 * 3600


def test_programme_day_before_day_change_is_the_day_before() -> None:
    day = programme_day(utc(2025, 12, 28, 0, 30), BERLIN, time(6))

    assert day.isoformat() == "2025-12-27"
