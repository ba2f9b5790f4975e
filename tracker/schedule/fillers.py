"""Generated placeholders for the time between talks in one room, so a page always has something to say."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo

from .errors import ScheduleError
from .model import Event
from .timezones import day_bounds, get_timezone, programme_day

DEFAULT_MIN_GAP = timedelta(minutes=15)
# Congress-style programmes run past midnight; a talk at 01:00 still belongs to the evening before.
DEFAULT_DAY_CHANGE = time(6, 0)
# kind, start, end and title of a filler before it becomes an Event
_Span = tuple[str, datetime, datetime, str]


UNAVAILABLE = "Programme unavailable"


def with_fillers(
    events: Iterable[Event],
    *,
    now: datetime,
    timezone: str,
    min_gap: timedelta = DEFAULT_MIN_GAP,
    day_change: time = DEFAULT_DAY_CHANGE,
    room: str | None = None,
) -> list[Event]:
    """One room's talks with generated fillers for the time before, between and after them, covering now."""
    if now.tzinfo is None:
        raise ScheduleError("now must be timezone-aware")
    tz = get_timezone(timezone)
    talks = sorted((event for event in events if not event.generated), key=lambda event: (event.start, event.guid))
    today_start, today_end = day_bounds(programme_day(now, tz, day_change), tz, day_change)
    if not talks:
        # A room's talks come from its schedule-key; a source has no room without
        # talks, so none at all means the key matched nothing (or the source is
        # empty): the programme is unknown, not empty. "Nothing today" would mislead.
        return [_filler("unavailable", today_start, today_end, UNAVAILABLE, room or "")]
    first = talks[0]
    before_start = min(today_start, day_bounds(programme_day(first.start, tz, day_change), tz, day_change)[0])
    spans: list[_Span] = [("before", before_start, first.start, f"Starts {_when(first.start, tz)}")]
    covered_until = first.end
    for talk in talks[1:]:
        if talk.start - covered_until > min_gap:
            spans.extend(_gap(covered_until, talk, tz, day_change))
        covered_until = max(covered_until, talk.end)
    last_day_end = day_bounds(_day_of_end(covered_until, tz, day_change), tz, day_change)[1]
    spans.append(("after", covered_until, max(today_end, last_day_end), "The programme in this room has ended"))
    fillers = [_filler(kind, start, end, title, room or first.room) for kind, start, end, title in spans if start < end]
    return sorted([*talks, *fillers], key=lambda event: (event.start, event.generated))


def _gap(gap_start: datetime, talk: Event, tz: tzinfo, day_change: time) -> list[_Span]:
    """A break within a day; across days: end of day, one span per empty day, then the wait for the next talk."""
    first_day = _day_of_end(gap_start, tz, day_change)
    last_day = programme_day(talk.start, tz, day_change)
    if first_day == last_day:
        return [("break", gap_start, talk.start, "Break")]
    continues = f"End of the day; continues {_when(talk.start, tz)}"
    spans: list[_Span] = [("end-of-day", gap_start, day_bounds(first_day, tz, day_change)[1], continues)]
    day = first_day + timedelta(days=1)
    while day < last_day:
        spans.append(("nothing-today", *day_bounds(day, tz, day_change), "Nothing today in this room"))
        day += timedelta(days=1)
    spans.append(("before", day_bounds(last_day, tz, day_change)[0], talk.start, f"Starts {_when(talk.start, tz)}"))
    return spans


def _day_of_end(end: datetime, tz: tzinfo, day_change: time) -> date:
    # A talk ending exactly at the day change belongs to the day it ran in, not the next one.
    return programme_day(end - timedelta(microseconds=1), tz, day_change)


def _when(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


def _filler(kind: str, start: datetime, end: datetime, title: str, room: str) -> Event:
    return Event(
        guid=f"filler:{room}:{kind}:{start.timestamp():.0f}",
        title=title,
        start=start,
        end=end,
        room=room,
        generated=True,
        filler=kind,
    )
