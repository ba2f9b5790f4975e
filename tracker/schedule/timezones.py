"""Olson time zones via pytz, and reading naive local times correctly across DST changes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

import pytz

from .errors import ScheduleError


def get_timezone(name: str) -> tzinfo:
    """The pytz zone for an Olson name such as "Europe/Berlin"."""
    try:
        return pytz.timezone(name)
    except (pytz.UnknownTimeZoneError, AttributeError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}") from None


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """A naive wall-clock time read in the pytz zone tz; fixed rules for hours a DST change skips or repeats."""
    if not isinstance(tz, pytz.BaseTzInfo):  # a fixed offset (datetime.timezone) has no DST to resolve
        return naive.replace(tzinfo=tz)
    try:
        return tz.localize(naive, is_dst=None)
    except pytz.AmbiguousTimeError:
        # The hour repeats when clocks go back: a programme means the first time the clock shows it.
        return tz.localize(naive, is_dst=True)
    except pytz.NonExistentTimeError:
        # The hour is skipped when clocks go forward: read it with the old offset, i.e. an hour later on the clock.
        return tz.localize(naive, is_dst=False)


def parse_datetime(text: str, tz: tzinfo) -> datetime:
    """An ISO 8601 date-time; one without an offset is read in tz."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScheduleError(f"bad date-time {text!r}") from None
    return moment if moment.tzinfo is not None else localize(moment, tz)


def day_bounds(day: date, tz: tzinfo, day_change: time) -> tuple[datetime, datetime]:
    """Start and end of a programme day that runs from day_change to day_change (23 or 25 hours on DST days)."""
    start = localize(datetime.combine(day, day_change), tz)
    end = localize(datetime.combine(day + timedelta(days=1), day_change), tz)
    return start, end


def programme_day(moment: datetime, tz: tzinfo, day_change: time) -> date:
    """The programme day a moment belongs to: times before day_change count to the day before."""
    local = moment.astimezone(tz)
    return local.date() - timedelta(days=1) if local.time() < day_change else local.date()
