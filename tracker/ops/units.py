"""Figures as people read them: "3 min 20 s", "1.2 Mbit/s", "45 MB", times in the event's zone."""

from __future__ import annotations

from datetime import datetime

import pytz


def duration(seconds: float) -> str:
    """Two units at most, the larger first: "45 s", "3 min 20 s", "2 h 5 min", "1 d 3 h"."""
    seconds = max(0, round(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            count, seconds = divmod(seconds, size)
            parts.append(f"{count} {unit}")
    return " ".join(parts[:2])


def _scaled(value: float, units: tuple[str, ...], base: int) -> str:
    for unit in units[:-1]:
        if abs(value) < base:
            return f"{value:.0f} {unit}" if unit == units[0] else f"{value:.3g} {unit}"
        value /= base
    return f"{value:.3g} {units[-1]}"


def bitrate(bits_per_second: float) -> str:
    return _scaled(bits_per_second, ("bit/s", "kbit/s", "Mbit/s", "Gbit/s"), 1000)


def data_size(octets: float) -> str:
    return _scaled(octets, ("B", "kB", "MB", "GB", "TB"), 1000)


def percent(part: float, whole: float) -> str:
    if whole <= 0:
        return "n/a"
    share = 100 * part / whole
    # 99.95 % is not 100 %: an outage must never round away.
    return f"{share:.2f} %" if 99 < share < 100 else f"{share:.1f} %"


def local(at: float, zone: str, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    return datetime.fromtimestamp(at, pytz.timezone(zone)).strftime(pattern)
