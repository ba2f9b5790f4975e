"""What operators say about problems.

Operators acknowledge a problem (the others see who is on it), silence the
alerts of an encoder or a whole room for a while (a rehearsal, maintenance),
and leave notes on encoders. Each is one field of a Redis hash, written,
logged in the room's transition log and pushed to every operator by one
Lua script, so the dashboards and the log never disagree.

Every name must be a configured room or an encoder that exists (or one a
control is still stored for, so it can be removed), and every text has a
byte cap: what one operator stores is bounded for everyone's dashboard.

Layout, under settings.REDIS_PREFIX:
    <prefix>:ops:controls      hash    "ack:<room>/<encoder>", "silence:<room>[/<encoder>]",
                                       "note:<room>/<encoder>", "message:<room>" -> JSON
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from tracker.config import get_config
from tracker.encoders import store
from tracker.encoders.heartbeat import ENCODER_NAME
from tracker.encoders.state_machine import State, member_of
from tracker.safetext import bad_character, escaped_bytes

MAX_SILENCE_MINUTES = 7 * 24 * 60
# Bytes of escaped JSON (tracker.safetext.escaped_bytes): the most a note takes anywhere.
MAX_NOTE_BYTES = 500
# A message to a room's viewers: one or two sentences, stored and sent to every
# viewer page of the room, so bounded in characters and in bytes.
MAX_MESSAGE_CHARACTERS = 280
MAX_MESSAGE_BYTES = 1000
PROBLEMS = frozenset({State.LATE, State.DEGRADED, State.DISCONNECTED, State.DOWN})

CONTROL_LUA = store.load_script("control")


class Refused(ValueError):
    """An operator's request that cannot be done, in words for them."""


@dataclass(frozen=True)
class Target:
    room: str
    name: str | None  # None: the whole room

    @property
    def member(self) -> str:
        return self.room if self.name is None else member_of(self.room, self.name)


async def target(redis: Redis, request: dict[str, Any], *, whole_room: bool = False) -> Target:
    """The room or encoder a request names; an encoder must exist, or still have a control stored."""
    room, name = request.get("room"), request.get("name")
    if not isinstance(room, str) or room not in get_config().rooms:
        raise Refused("room: not a configured room")
    if name is None and whole_room:
        return Target(room, None)
    if not isinstance(name, str) or not ENCODER_NAME.match(name):
        raise Refused("name: the encoder is required (letters, digits, '_', '.', '-'; at most 64)")
    where = Target(room, name)
    fields = [f"{kind}:{where.member}" for kind in ("ack", "silence", "note")]
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hexists(store.key("records"), where.member)
        pipe.hmget(store.key("ops", "controls"), fields)
        exists, controls = await pipe.execute()
    if not exists and not any(controls):
        raise Refused("name: no such encoder in this room")
    return where


async def _commit(redis: Redis, room: str, field: str, value: dict[str, Any] | None, entry: dict[str, Any]) -> int:
    keep = get_config().settings["history-hours"] * 3600
    return await CONTROL_LUA(
        keys=[store.key("ops", "controls"), store.key("log", room), store.key("ops", "version")],
        args=[
            field,
            "" if value is None else store.encode_json(value),
            store.encode_json(entry),
            max(0, int((entry["at"] - keep) * 1000)),
            store.ops_channel(),
        ],
        client=redis,
    )


async def acknowledge(redis: Redis, request: dict[str, Any], *, by: str, now: float) -> int:
    """Say that `by` is on the encoder's current problem; it holds until the state changes."""
    where = await target(redis, request)
    record = await store.read_record(redis, where.member)
    if record is None or record.state not in PROBLEMS:
        raise Refused("name: this encoder has no problem to acknowledge")
    ack = {"by": by, "at": now, "state": record.state, "since": record.since}
    entry = {"kind": "ack", "room": where.room, "name": where.name, "by": by, "at": now, "state": record.state}
    return await _commit(redis, where.room, f"ack:{where.member}", ack, entry)


async def silence(redis: Redis, request: dict[str, Any], *, by: str, now: float) -> int:
    """Silence alerts for an encoder or a room for `minutes` (0 ends a silence)."""
    where = await target(redis, request, whole_room=True)
    minutes = request.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_SILENCE_MINUTES:
        raise Refused(f"minutes: a whole number from 0 to {MAX_SILENCE_MINUTES}")
    until = now + minutes * 60
    value = {"by": by, "at": now, "until": until} if minutes else None
    entry = {"kind": "silence" if minutes else "unsilence", "room": where.room, "name": where.name, "by": by, "at": now}
    if minutes:
        entry["until"] = until
    return await _commit(redis, where.room, f"silence:{where.member}", value, entry)


async def note(redis: Redis, request: dict[str, Any], *, by: str, now: float) -> int:
    """Leave a note on an encoder ("" removes it)."""
    where = await target(redis, request)
    text = request.get("text")
    if not isinstance(text, str) or escaped_bytes(text) > MAX_NOTE_BYTES:
        raise Refused(f"text: at most {MAX_NOTE_BYTES} bytes (escaped as JSON)")
    text = text.strip()
    value = {"by": by, "at": now, "text": text} if text else None
    entry = {"kind": "note", "room": where.room, "name": where.name, "by": by, "at": now, "text": text}
    return await _commit(redis, where.room, f"note:{where.member}", value, entry)


async def message(redis: Redis, request: dict[str, Any], *, by: str, now: float) -> int:
    """Tell a room's viewers something ("" clears it): on every viewer page,
    embed, home card and monitor tile of the room (its public `message`
    attribute, one room version), and in the room's log with who and when."""
    where = await target(redis, request, whole_room=True)
    text = request.get("text")
    if (
        not isinstance(text, str)
        or len(text) > MAX_MESSAGE_CHARACTERS
        or len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES
    ):
        raise Refused(f"text: at most {MAX_MESSAGE_CHARACTERS} characters ({MAX_MESSAGE_BYTES} bytes)")
    text = " ".join(text.split())  # one line: viewers' pages show it as a sentence
    problem = bad_character(text)
    if problem:
        raise Refused(f"text: {problem}")
    value = {"by": by, "at": now, "text": text} if text else None
    # Viewers first: the log says it once they can read it.
    await store.set_room_attr(redis, where.room, "message", {"text": text, "at": now} if text else None)
    entry = {"kind": "message", "room": where.room, "name": None, "by": by, "at": now, "text": text}
    return await _commit(redis, where.room, f"message:{where.room}", value, entry)


OPERATOR_ACTIONS = {"ack": acknowledge, "silence": silence, "note": note, "message": message}


async def silenced_until(redis: Redis, room: str, name: str | None, *, at: float) -> float | None:
    """When the silence covering this encoder (None: the room itself) at `at` ends (its own or its room's), or None."""
    fields = [f"silence:{room}"] if name is None else [f"silence:{room}/{name}", f"silence:{room}"]
    texts = await redis.hmget(store.key("ops", "controls"), fields)
    ends = [json.loads(text)["until"] for text in texts if text]
    ends = [until for until in ends if until > at]
    return max(ends) if ends else None


async def read_controls(redis: Redis, members: set[str]) -> dict[str, Any]:
    """The controls of these rooms and encoders ("room" or "room/encoder"), by field.

    A control left on an encoder that is gone stays stored (its removal is
    still allowed) but is not sent: the snapshot holds what exists.
    """
    controls = await redis.hgetall(store.key("ops", "controls"))
    return {field: json.loads(value) for field, value in controls.items() if field.partition(":")[2] in members}
