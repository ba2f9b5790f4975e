"""Helpers shared by the schedule tests: fixture paths and compact event look-ups."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tracker.schedule import Event, parse_schedule

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "schedules"


def parse_fixture(name: str, *, timezone: str = "Europe/Berlin") -> list[Event]:
    """The events of a hand-written fixture."""
    return parse_schedule((FIXTURES / name).read_bytes(), timezone=timezone)


def by_title(events: list[Event], title: str) -> Event:
    """The one event with this title."""
    (event,) = [event for event in events if event.title == title]
    return event


def utc(*args: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)
