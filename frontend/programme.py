"""The programme across rooms ("Fahrplan"): every room's talks of one day laid out on one
time grid, grouped by start time so the same markup reads as a list on a phone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from .extras import moment, web_url

# One grid row per this many minutes: talks start on five-minute marks in every real schedule.
ROW_MINUTES = 5


def day_label(day: str) -> str:
    """ "2025-12-27" -> "Saturday 27 December" (the switcher's and headings' words; "" if not a date)."""
    try:
        value = date.fromisoformat(day)
    except ValueError:
        return ""
    return f"{value:%A} {value.day} {value:%B}"


def days_of(schedules: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every programme day any room's schedule holds, in order, for the day switcher."""
    days = sorted({day for schedule in schedules for day in schedule.get("days") or [] if day_label(day)})
    return [{"date": day, "label": day_label(day)} for day in days]


def row_of(when: datetime, origin: datetime) -> int:
    """The grid row a moment falls on (row 1 holds the room names)."""
    return 2 + int((when - origin) / timedelta(minutes=ROW_MINUTES))


def whole_day(rooms: list[dict[str, Any]], schedules: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Each room's talks of the day (fillers left out) as grid items in time slots: one slot per
    start time, each talk with its column (the room), its rows, and whether it is on at `now`."""
    talks = []
    for column, (room, schedule) in enumerate(zip(rooms, schedules, strict=True), start=2):
        for talk in schedule.get("day") or []:
            start, end = moment(talk.get("start")), moment(talk.get("end"))
            if talk.get("generated") or not talk.get("title") or not start or not end or end <= start:
                continue
            talks.append((start, end, column, room, talk))
    if not talks:
        return {"slots": [], "rows": 0}
    origin = min(start for start, *_ in talks)  # the first talk of the day, in any room, on the first row
    slots: dict[datetime, dict[str, Any]] = {}
    for start, end, column, room, talk in sorted(talks, key=lambda item: (item[0], item[2])):
        slot = slots.setdefault(start, {"start": talk["start"], "row": row_of(start, origin), "talks": []})
        slot["talks"].append(
            {
                **talk,
                "url": web_url(talk.get("url")),
                "room": room,
                "column": column,
                "row": slot["row"],
                "until": max(row_of(end, origin), slot["row"] + 1),
                "current": start <= now < end,
            }
        )
    ordered = list(slots.values())
    for slot, following in zip(ordered, [*ordered[1:], None], strict=True):
        slot["until"] = following["row"] if following else slot["row"] + 1
    return {"slots": ordered, "rows": max(talk["until"] for slot in ordered for talk in slot["talks"])}
