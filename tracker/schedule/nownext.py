"""What is on now and what comes next, for a time passed in (never read from the clock here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .errors import ScheduleError
from .model import Event


@dataclass(frozen=True, slots=True)
class NowNext:
    """The event running at a moment (a filler if no talk is) and the next real talk."""

    current: Event | None
    next: Event | None


def _check(now: datetime) -> None:
    if now.tzinfo is None:
        raise ScheduleError("now must be timezone-aware")


def now_and_next(events: Iterable[Event], *, now: datetime) -> NowNext:
    """Current: start <= now < end, a talk before a filler; next: the first real talk with start > now."""
    _check(now)
    events = list(events)
    running = [event for event in events if event.start <= now < event.end]
    # With overlaps, a real talk beats a filler, and the talk that began last is the one on stage.
    current = max(running, key=lambda event: (not event.generated, event.start, event.guid), default=None)
    upcoming = [event for event in events if not event.generated and event.start > now]
    following = min(upcoming, key=lambda event: (event.start, event.room, event.guid), default=None)
    return NowNext(current=current, next=following)


def next_boundary(events: Iterable[Event], *, now: datetime) -> datetime | None:
    """The first start or end after now: when now_and_next can next change (for a push timer)."""
    _check(now)
    moments = [moment for event in events for moment in (event.start, event.end) if moment > now]
    return min(moments, default=None)
