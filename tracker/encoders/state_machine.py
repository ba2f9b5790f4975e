"""The health model of one encoder, as pure functions of its record and time.

    up ──(interval + tolerance)──▶ late ──(interval + grace)──▶ down
    any ──(socket closes)──▶ disconnected ──(grace passes)──▶ down
    any ──(heartbeat)──▶ up, or degraded when its metrics cross a threshold,
                          a source failed, or it has had no playable stream too long

After an outage of our own store, no deadline falls before an interval
plus grace from its return (see after_outage): an outage of ours is never
reported as the encoders'.

Every function gets `now` from the caller, so tests move the clock and
check each boundary exactly.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tracker.safetext import check_tree

if TYPE_CHECKING:  # heartbeat.py imports this module
    from tracker.encoders.heartbeat import Heartbeat


class State(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    LATE = "late"
    DISCONNECTED = "disconnected"
    DOWN = "down"


# States whose streams viewers may be sent to.
LIVE_STATES = frozenset({State.UP, State.DEGRADED, State.LATE})
# Roles whose heartbeats should carry playable streams; collectors and mixers
# feed the next stage of the pipeline and report none.
STREAMING_ROLES = frozenset({"encoder", "endpoint"})


def member_of(room: str, name: str) -> str:
    """An encoder's name across the site, as records, logs and alerts key it: "room/name"."""
    return f"{room}/{name}"


@dataclass(frozen=True)
class Identity:
    """Who is sending: from the encoder's token (or the legacy secret)."""

    name: str
    room: str
    role: str
    grace: int

    @property
    def member(self) -> str:
        return member_of(self.room, self.name)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Identity:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as exc:
            raise Unreadable(str(exc)) from None


@dataclass(frozen=True)
class Thresholds:
    silence: int  # seconds of continuous silence before an encoder is degraded
    no_streams: int  # seconds without a playable stream before an encoder is degraded


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
    # Streams counted for operators but never offered to viewers (legacy FLV, loop…).
    counted: list[dict[str, Any]] = field(default_factory=list)
    # What the encoder's streams add up to: clients and outgoing bandwidth (bit/s).
    totals: dict[str, int] = field(default_factory=dict)
    # Other figures an encoder sent (legacy keys nobody defined), shown to operators.
    stats: dict[str, int] = field(default_factory=dict)
    # Since when its heartbeats have carried no playable stream (None: they carry some).
    empty_since: float | None = None
    # When our own store came back from an outage while this encoder was
    # being judged (0: never). Heartbeats sent during the outage were lost,
    # so its deadlines count again from a grace after that moment.
    resumed: float = 0.0

    @property
    def member(self) -> str:
        return member_of(self.room, self.name)

    def deadline(self) -> float | None:
        """When the sweeper must look at this encoder next (None: never)."""
        heard = max(self.last_seen, self.resumed + self.grace)
        if self.state in (State.UP, State.DEGRADED):
            # Late means a heartbeat was missed, not that one came a few
            # milliseconds after its interval: half the grace (at most half
            # an interval) of tolerance, so punctual encoders never flap.
            return heard + self.interval + min(self.grace, self.interval) / 2
        if self.state == State.LATE:
            return heard + self.interval + self.grace
        if self.state == State.DISCONNECTED:
            return max(self.since, self.resumed + self.interval) + self.grace
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

    @property
    def clients(self) -> int:
        return self.totals.get("clients", 0)

    @property
    def bandwidth(self) -> int:
        """Outgoing bit/s to viewers, as reported (or clients * bitrate); not the streams' encoding bitrate."""
        return self.totals.get("bandwidth", 0)

    def to_json(self) -> str:
        # vars(), not dataclasses.asdict(): no deep copy on every heartbeat.
        return json.dumps(vars(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Record:
        """The record stored as `text`; Unreadable if it is not one we could have written."""
        try:
            data = json.loads(text)
            kinds = record_fields(cls) if cls is not Record else RECORD_FIELDS
            if not isinstance(data, dict) or not FIRST_FIELDS <= set(data) <= kinds.keys():
                raise ValueError("not a record's fields")
            for name, value in data.items():
                if not isinstance(value, kinds[name]) or isinstance(value, bool):
                    raise ValueError(f"{name} is not a {kinds[name]}")
            if not all(isinstance(s, dict) and isinstance(s.get("url"), str) for s in data["streams"]):
                raise ValueError("streams are not objects with a URL")
            # Python reads what Redis's Lua cjson refuses (unpaired surrogates): such a record must not
            # be believed here and then break every script that touches it.
            check_tree(data)
            return cls(**{**data, "state": State(data["state"])})
        except (ValueError, TypeError, RecursionError) as exc:
            raise Unreadable(str(exc)) from None


class Unreadable(ValueError):
    """Stored text that is not a record (written by hand, by a bug, or by an older version)."""


def json_kinds(hint: Any) -> tuple[type, ...]:
    """The JSON value types a field annotated `hint` may be stored as (a float may be written as 5)."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return tuple(kind for arg in typing.get_args(hint) for kind in json_kinds(arg))
    if hint is float:
        return (int, float)
    if isinstance(hint, type) and issubclass(hint, str):  # State too
        return (str,)
    return (typing.get_origin(hint) or hint,)


def record_fields(cls: type[Record]) -> dict[str, tuple[type, ...]]:
    """Each field of the record class with the JSON types it is stored as: read from the dataclass itself,
    so a field is added in one place, with a default that an older record without it is read with."""
    hints = typing.get_type_hints(cls)
    return {f.name: json_kinds(hints[f.name]) for f in dataclasses.fields(cls)}


RECORD_FIELDS = record_fields(Record)
# What every record ever written holds (commit.lua needs `seq` too): a text
# without one of these was not written by us. Fields added since have defaults.
FIRST_FIELDS = frozenset(
    {"room", "name", "role", "state", "since", "last_seen", "interval", "grace", "streams", "metrics", "reason", "seq"}
)


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


def outgoing(stream: dict[str, Any]) -> int:
    """A stream's outgoing bandwidth in bit/s: what its server measured, else clients * bitrate."""
    return stream.get("bandwidth", stream["clients"] * stream["bitrate"])


def stream_totals(streams: list[dict[str, Any]]) -> dict[str, int]:
    """Clients and outgoing bandwidth summed over streams."""
    return {"clients": sum(s["clients"] for s in streams), "bandwidth": sum(outgoing(s) for s in streams)}


def empty_since(previous: Record | None, streams: list[dict[str, Any]], *, now: float) -> float | None:
    """Since when the encoder has reported no playable stream; a period starts over after it was gone."""
    if streams:
        return None
    if previous is not None and previous.live and previous.empty_since is not None:
        return previous.empty_since
    return now


def degraded_reason(
    previous: Record | None,
    metrics: dict[str, Any],
    thresholds: Thresholds,
    *,
    empty: float | None,
    now: float,
) -> str:
    """Why the metrics make an encoder degraded, or "" when they don't."""
    reasons = []
    if empty is not None and now - empty >= thresholds.no_streams:
        reasons.append(f"no playable stream for over {thresholds.no_streams} s")
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
    beat: Heartbeat,
    *,
    identity: Identity,
    thresholds: Thresholds,
    now: float,
) -> tuple[Record, Transition | None]:
    """The record after a heartbeat, and the transition it caused if any.

    Every field of the heartbeat that the record has too (interval, streams,
    metrics, counted, totals, stats…) is carried over as sent; a new one
    needs only its line in both dataclasses."""
    empty = empty_since(previous, beat.streams, now=now) if identity.role in STREAMING_ROLES else None
    reason = degraded_reason(previous, beat.metrics, thresholds, empty=empty, now=now)
    state = State.DEGRADED if reason else State.UP
    old = previous.state if previous else None
    changed = state != old
    carried = {f.name: getattr(beat, f.name) for f in dataclasses.fields(beat) if f.name in RECORD_FIELDS}
    record = Record(
        **{
            **carried,
            # Who sent it is the token's say, not the body's.
            "room": identity.room,
            "name": identity.name,
            "role": identity.role,
            "grace": identity.grace,
            "state": state,
            "since": previous.since if previous and not changed else now,
            "last_seen": now,
            "reason": reason,
            "seq": previous.seq + 1 if previous else 1,
            "totals": beat.totals or stream_totals(beat.streams),
            "empty_since": empty,
        }
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
        new, why = State.LATE, f"no heartbeat for {round(now - previous.last_seen, 1):g} s"
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


def after_outage(previous: Record, *, now: float) -> tuple[Record, None] | None:
    """The record once our store is back from an outage at `now` (None: not being judged).

    Heartbeats sent during the outage were lost, not missed: the encoder
    gets an interval plus its grace from now before it can turn late or down.
    """
    if previous.deadline() is None:
        return None
    return moved(previous, resumed=now), None
