"""The health model of one encoder, as pure functions of its record and time.

    up ──(interval + tolerance)──▶ late ──(interval + grace)──▶ down
    any ──(socket closes)──▶ disconnected ──(grace passes)──▶ down
    any ──(heartbeat)──▶ up, or degraded when its metrics cross a threshold

Every function gets `now` from the caller, so tests move the clock and
check each boundary exactly.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    LATE = "late"
    DISCONNECTED = "disconnected"
    DOWN = "down"


# States whose streams viewers may be sent to.
LIVE_STATES = frozenset({State.UP, State.DEGRADED, State.LATE})


@dataclass(frozen=True)
class Identity:
    """Who is sending: from the encoder's token (or the legacy secret)."""

    name: str
    room: str
    role: str
    grace: int

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Identity:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Thresholds:
    silence: int  # seconds of continuous silence before an encoder is degraded


@dataclass(frozen=True)
class Record:
    """An encoder's state as stored in Redis; `seq` guards compare-and-set."""

    room: str
    name: str
    role: str
    state: State
    since: float
    last_seen: float
    interval: int
    grace: int
    streams: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    seq: int = 0

    @property
    def member(self) -> str:
        return f"{self.room}/{self.name}"

    def deadline(self) -> float | None:
        """When the sweeper must look at this encoder next (None: never)."""
        if self.state in (State.UP, State.DEGRADED):
            # Late means a heartbeat was missed, not that one came a few
            # milliseconds after its interval: half the grace (at most half
            # an interval) of tolerance, so punctual encoders never flap.
            return self.last_seen + self.interval + min(self.grace, self.interval) / 2
        if self.state == State.LATE:
            return self.last_seen + self.interval + self.grace
        if self.state == State.DISCONNECTED:
            return self.since + self.grace
        return None

    def public_report(self) -> dict[str, Any] | None:
        """What viewers get from this encoder, or None while it is not live.

        Only what can be played: clients and bitrate change with nearly every
        heartbeat, and pushing them to every viewer would turn each heartbeat
        into a broadcast. Stream selection reads them from the record instead.
        """
        if self.state not in LIVE_STATES:
            return None
        return {
            "streams": [
                {key: s[key] for key in ("format", "quality", "url", "language") if key in s} for s in self.streams
            ]
        }

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def to_json(self) -> str:
        # vars(), not dataclasses.asdict(): no deep copy on every heartbeat.
        return json.dumps(vars(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Record:
        data = json.loads(text)
        return cls(**{**data, "state": State(data["state"])})


@dataclass(frozen=True)
class Transition:
    room: str
    name: str
    old: State | None
    new: State
    reason: str
    at: float

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))


def degraded_reason(previous: Record | None, metrics: dict[str, Any], thresholds: Thresholds) -> str:
    """Why the metrics make an encoder degraded, or "" when they don't."""
    reasons = []
    if metrics.get("silence", 0) >= thresholds.silence:
        reasons.append(f"silent for {metrics['silence']} s")
    dropped, before = metrics.get("dropped_frames"), (previous.metrics.get("dropped_frames") if previous else None)
    if dropped is not None and before is not None and dropped > before:
        reasons.append(f"dropped frames rising (+{dropped - before})")
    reasons.extend(f"{error['source']}: {error['reason']}" for error in metrics.get("errors", []))
    return "; ".join(reasons)


def moved(previous: Record, **changes: Any) -> Record:
    return dataclasses.replace(previous, seq=previous.seq + 1, **changes)


def after_heartbeat(
    previous: Record | None,
    *,
    identity: Identity,
    interval: int,
    streams: list[dict[str, Any]],
    metrics: dict[str, Any],
    thresholds: Thresholds,
    now: float,
) -> tuple[Record, Transition | None]:
    """The record after a heartbeat, and the transition it caused if any."""
    reason = degraded_reason(previous, metrics, thresholds)
    state = State.DEGRADED if reason else State.UP
    old = previous.state if previous else None
    changed = state != old
    record = Record(
        room=identity.room,
        name=identity.name,
        role=identity.role,
        state=state,
        since=now if changed else previous.since,
        last_seen=now,
        interval=interval,
        grace=identity.grace,
        streams=streams,
        metrics=metrics,
        reason=reason,
        seq=previous.seq + 1 if previous else 1,
    )
    if not changed:
        return record, None
    why = reason or ("first heartbeat" if previous is None else f"heartbeat after {old}")
    return record, Transition(identity.room, identity.name, old, state, why, now)


def after_deadline(previous: Record, *, now: float) -> tuple[Record, Transition] | None:
    """The record once its deadline passed, or None if it has not (yet)."""
    deadline = previous.deadline()
    if deadline is None or now < deadline:
        return None
    if previous.state == State.LATE:
        new, why = State.DOWN, f"no heartbeat for {previous.interval + previous.grace} s"
    elif previous.state == State.DISCONNECTED:
        new, why = State.DOWN, f"not back within {previous.grace} s of disconnecting"
    else:
        new, why = State.LATE, f"no heartbeat for {now - previous.last_seen:g} s"
    return moved(previous, state=new, since=now, reason=why), Transition(
        previous.room, previous.name, previous.state, new, why, now
    )


def after_disconnect(previous: Record, *, now: float) -> tuple[Record, Transition] | None:
    """The record when its websocket closed (None if it was already gone)."""
    if previous.state in (State.DISCONNECTED, State.DOWN):
        return None
    why = "websocket closed"
    return moved(previous, state=State.DISCONNECTED, since=now, reason=why), Transition(
        previous.room, previous.name, previous.state, State.DISCONNECTED, why, now
    )
