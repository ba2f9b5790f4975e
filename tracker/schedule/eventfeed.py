"""The legacy eventfeed JSON (Zookeepr and alike): a list of flat objects with naive local times."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from .durations import parse_duration
from .errors import ScheduleError
from .model import Event
from .normalize import Draft, finish
from .text import as_text, safe_url
from .timezones import parse_datetime


def parse_eventfeed(data: list[Any], *, tz: tzinfo) -> list[Event]:
    """Events of every "Room Name" in a decoded eventfeed list."""
    drafts = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ScheduleError(f"eventfeed: item {index} is not an object")
        drafts.append(_draft(item, index, tz))
    return finish(drafts, tz)


def _draft(item: dict[str, Any], index: int, tz: tzinfo) -> Draft:
    source_id = as_text(item.get("Id"))
    where = f"eventfeed item {index} (Id {source_id or '-'})"
    start = as_text(item.get("Start"))
    if not start:
        raise ScheduleError(f"{where}: no Start")
    end, duration = as_text(item.get("End")), as_text(item.get("Duration"))
    return Draft(
        title=as_text(item.get("Title")),
        start=parse_datetime(start, tz),
        room=as_text(item.get("Room Name")),
        where=where,
        guid=source_id,
        source_id=source_id,
        end=parse_datetime(end, tz) if end else None,
        duration=parse_duration(duration) if duration else None,
        speakers=as_text(item.get("Presenters")).split(","),
        abstract=as_text(item.get("Description")),
        url=safe_url(as_text(item.get("URL"))),
        # The speakers' video release, the string "True" or "False"; absent on breaks.
        do_not_record=as_text(item.get("video_release")).lower() == "false",
    )
