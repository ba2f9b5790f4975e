"""Durations as schedules write them."""

from __future__ import annotations

import re
from datetime import timedelta

from .errors import ScheduleError

# "H:MM", "HH:MM", "HH:MM:SS" and str(timedelta) ("1 day, 2:00:00", "0:00:01.500000").
_CLOCK = re.compile(r"(?:(?P<days>\d+) days?, )?(?P<h>\d+):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<us>\d{1,6}))?)?")


def parse_duration(text: str) -> timedelta:
    """A duration written "HH:MM", "H:MM", "HH:MM:SS" or as str(timedelta)."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise ScheduleError(f"bad duration {text!r}: expected HH:MM, HH:MM:SS or '1 day, HH:MM:SS'")
    minutes, seconds = int(match["m"]), int(match["s"] or 0)
    if minutes > 59 or seconds > 59:
        raise ScheduleError(f"bad duration {text!r}: minutes and seconds must be below 60")
    return timedelta(
        days=int(match["days"] or 0),
        hours=int(match["h"]),
        minutes=minutes,
        seconds=seconds,
        microseconds=int((match["us"] or "0").ljust(6, "0")),
    )
