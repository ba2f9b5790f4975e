"""The truth of a room: what its viewers can watch, as one state, from its
encoders, their streams, the programme and what viewers' players report.

A pure function of what the caller read (no Redis, no clock), so each row of
the table in docs/architecture.md has its unit test. The worker judges every
room each second (tracker.ops.room_watch) and publishes the state to
operators, as a room attribute to viewers, and as a room-level alert when it
changes; viewers' pages also derive "off air" at once from the public
streams (public_state), without waiting for the worker.

Encoder states stay as they are, under the room: an encoder `down` while two
others stream is a lost backup, not a room that is down.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tracker.encoders.state_machine import STREAMING_ROLES, Record, State


class RoomState(StrEnum):
    ON_AIR = "on-air"
    REDUNDANCY_LOST = "redundancy-lost"
    FORMAT_LOST = "format-lost"
    VIEWERS_FAILING = "viewers-failing"
    OFF_AIR_TALK = "off-air-talk"
    OFF_AIR = "off-air"
    NO_ENCODERS = "no-encoders"


class Severity(StrEnum):
    OK = "ok"  # nothing to do (on air; off air while nothing is scheduled)
    WARNING = "warning"  # viewers can still watch, something needs a look
    ERROR = "error"  # viewers are failing to watch
    CRITICAL = "critical"  # a talk is on and nobody can watch it


# The words for each state, the same on the dashboard, in alerts and in the API.
LABELS = {
    RoomState.ON_AIR: "on air",
    RoomState.REDUNDANCY_LOST: "on air, redundancy lost",
    RoomState.FORMAT_LOST: "on air, a format lost",
    RoomState.VIEWERS_FAILING: "on air, viewers failing",
    RoomState.OFF_AIR_TALK: "off air during a talk",
    RoomState.OFF_AIR: "off air",
    RoomState.NO_ENCODERS: "no encoders (setup)",
}
SEVERITY = {
    RoomState.ON_AIR: Severity.OK,
    RoomState.REDUNDANCY_LOST: Severity.WARNING,
    RoomState.FORMAT_LOST: Severity.ERROR,
    RoomState.VIEWERS_FAILING: Severity.ERROR,
    RoomState.OFF_AIR_TALK: Severity.CRITICAL,
    RoomState.OFF_AIR: Severity.OK,
    RoomState.NO_ENCODERS: Severity.WARNING,
}
# What viewers' pages are told (they never see redundancy: they can watch).
PUBLIC = {
    RoomState.ON_AIR: "on-air",
    RoomState.REDUNDANCY_LOST: "on-air",
    RoomState.FORMAT_LOST: "on-air",  # the player moves on to a format that plays
    RoomState.VIEWERS_FAILING: "viewers-failing",
    RoomState.OFF_AIR_TALK: "off-air-talk",
    RoomState.OFF_AIR: "off-air",
    RoomState.NO_ENCODERS: "off-air",
}


@dataclass(frozen=True)
class Verdict:
    state: RoomState
    # Why, in words for operators: which encoder or format is missing.
    reasons: list[str] = field(default_factory=list)

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.state]

    @property
    def label(self) -> str:
        return LABELS[self.state]

    def to_dict(self) -> dict[str, object]:
        return {
            "state": str(self.state),
            "label": self.label,
            "severity": str(self.severity),
            "public": PUBLIC[self.state],
            "reasons": self.reasons,
        }


def formats(streams: Iterable[dict[str, object]]) -> set[str]:
    return {str(stream["format"]) for stream in streams if "format" in stream}


def room_state(records: list[Record], *, talk_on: bool, viewers_failing: bool = False) -> Verdict:
    """The room's state from its encoders' records (every state, down ones too).

    The formats a room offers are those its streaming encoders last carried,
    whatever their state now (a down record keeps its last streams): losing
    every WebM endpoint while HLS plays is not "on air" for WebM's viewers.
    """
    streaming = [r for r in records if r.role in STREAMING_ROLES]
    if not records:
        nobody = ["no encoder has reported for this room"]
        return Verdict(RoomState.OFF_AIR_TALK if talk_on else RoomState.NO_ENCODERS, nobody)
    offered = formats(s for r in streaming for s in r.streams)
    playable = formats(s for r in streaming if r.live for s in r.streams)
    if not playable:
        down = sorted(f"{r.name} {r.state}" for r in records if r.state != State.UP)
        return Verdict(RoomState.OFF_AIR_TALK if talk_on else RoomState.OFF_AIR, down or ["no playable stream"])
    lost = [f"no {fmt} stream" for fmt in sorted(offered - playable)]
    # Late is one missed heartbeat, on its way back to up or to down within the
    # grace: not yet a failure of the room (its streams are still offered).
    failed = [r for r in sorted(records, key=lambda r: r.name) if r.state not in (State.UP, State.LATE)]
    reasons = lost + [f"{r.name} {r.state}" for r in failed]
    if viewers_failing:
        return Verdict(RoomState.VIEWERS_FAILING, reasons)
    if lost:
        return Verdict(RoomState.FORMAT_LOST, reasons)
    return Verdict(RoomState.REDUNDANCY_LOST if reasons else RoomState.ON_AIR, reasons)


def talk_on(nownext: dict[str, Any] | None) -> bool:
    """Whether the programme has a talk on now (a generated filler, a break, is none)."""
    now = (nownext or {}).get("now")
    return isinstance(now, dict) and not now.get("generated")


def public_state(*, playable: bool, talk_on: bool, judged: str | None) -> str:
    """What a viewer page says of a room, from the public feed alone.

    "Off air" follows the streams at once; on air, the worker's judgement
    (`judged`, a PUBLIC value) adds whether viewers fail to play.
    """
    if not playable:
        return PUBLIC[RoomState.OFF_AIR_TALK] if talk_on else PUBLIC[RoomState.OFF_AIR]
    return PUBLIC[RoomState.VIEWERS_FAILING] if judged == PUBLIC[RoomState.VIEWERS_FAILING] else "on-air"
