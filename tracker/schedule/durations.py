"""Durations as schedules write them."""

from __future__ import annotations

import re
from datetime import timedelta

from .errors import ScheduleError

# "H:MM", "HH:MM", "HH:MM:SS" and str(timedelta) ("1 day, 2:00:00", "0:00:01.500000").
_CLOCK = re.compile(r"(?:(?P<days>\d+) days?, )?(?P<h>\d+):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<us>\d{1,6}))?)?")
# RFC 5545 DURATION, e.g. "PT1H30M", "P1D", "P1W"; schedules never use negative durations.
_ISO = re.compile(r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?")


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


def parse_iso_duration(text: str) -> timedelta:
    """An iCalendar DURATION value such as "PT1H30M"."""
    match = _ISO.fullmatch(text.strip().lstrip("+"))
    if not match or text.strip().lstrip("+") in ("P", "PT") or text.strip().endswith("T"):
        raise ScheduleError(f"bad iCalendar duration {text!r}")
    parts = {key: int(value or 0) for key, value in match.groupdict().items()}
    return timedelta(weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
