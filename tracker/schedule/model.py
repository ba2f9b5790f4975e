"""The normalized event every parser produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import ScheduleError


@dataclass(frozen=True, slots=True)
class Event:
    """One talk (or a generated filler) in one room, with start and end in UTC."""

    guid: str
    title: str
    start: datetime
    end: datetime
    room: str
    speakers: tuple[str, ...] = ()
    abstract: str = ""
    url: str = ""
    language: str = ""
    track: str = ""
    generated: bool = False
    # What a generated event stands for ("before", "break", "end-of-day", "nothing-today", "after",
    # "unavailable": no talk of the room's schedule-key in the source); "" for talks.
    filler: str = ""
    # The source's own id of the talk (frab's number), for recording links; "" when it has none.
    id: str = ""
    # The schedule's own link to the talk's recording ("" when it has none), and
    # whether the talk may not be recorded (then no "watch again" link at all).
    recording: str = ""
    do_not_record: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ScheduleError(f"event {self.guid!r}: start and end must be timezone-aware")
        # Stored in UTC so that comparisons, sorting and serialization never depend on a zone.
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))

    @property
    def duration(self) -> timedelta:
        """How long the event lasts."""
        return self.end - self.start


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-able dict of an event, times as ISO 8601 UTC strings."""
    return {
        "guid": event.guid,
        "title": event.title,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "room": event.room,
        "speakers": list(event.speakers),
        "abstract": event.abstract,
        "url": event.url,
        "language": event.language,
        "track": event.track,
        "generated": event.generated,
        "filler": event.filler,
        "id": event.id,
        "recording": event.recording,
        "do_not_record": event.do_not_record,
    }


def event_from_dict(data: dict[str, Any]) -> Event:
    """The event that event_to_dict turned into data."""
    try:
        return Event(
            guid=data["guid"],
            title=data["title"],
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(data["end"]),
            room=data["room"],
            speakers=tuple(data.get("speakers", ())),
            abstract=data.get("abstract", ""),
            url=data.get("url", ""),
            language=data.get("language", ""),
            track=data.get("track", ""),
            generated=bool(data.get("generated", False)),
            filler=data.get("filler", ""),
            id=data.get("id", ""),
            recording=data.get("recording", ""),
            do_not_record=bool(data.get("do_not_record", False)),
        )
    except KeyError as exc:
        raise ScheduleError(f"stored event lacks {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ScheduleError(f"stored event is malformed: {exc}") from None
