"""Live state in Redis: encoder records, deadlines, public rooms, versions.

Every change is written, versioned and published by one Lua script, so the
published messages reach every subscriber in version order (Redis runs
scripts one at a time and delivers a connection's pub/sub messages in
publish order). Browsers rely on that order to notice a lost message: a
version gap means "ask for a snapshot".

The scripts are in tracker/encoders/lua/, each naming its keys and arguments at the
top; each has one typed function here (or in the module that owns it) that
builds its `keys` and `args`. Every key, its type, writers, readers and
expiry: the "Redis key layout" table in docs/architecture.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from django.conf import settings
from redis.asyncio import BlockingConnectionPool
from redis.asyncio import Redis as Redis  # re-exported: the other modules annotate with store.Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError

from common.per_loop import PerLoop
from tracker.config import get_config
from tracker.encoders.state_machine import Record, Transition, Unreadable, member_of

logger = logging.getLogger(__name__)
T = TypeVar("T")
# An unreadable record is moved aside, not deleted: kept this long for a person to look at.
QUARANTINE_SECONDS = 7 * 24 * 3600
# Keys already logged as unreadable by this process (each is logged once; bounded).
_reported: set[str] = set()


LUA_DIRECTORY = Path(__file__).with_name("lua")
# register_script needs a client only to encode the script's text (UTF-8, as
# every client here); each call passes the client of the caller's loop, so
# this one never connects.
_SCRIPT_OWNER = Redis()


def load_script(name: str) -> AsyncScript:
    """lua/<name>.lua, run by SHA (EVALSHA): sent whole only when Redis lacks it, not with every heartbeat.

    A script that calls publish_room gets room_message.lua's functions put in
    front: Lua scripts cannot include one another.
    """
    source = (LUA_DIRECTORY / f"{name}.lua").read_text()
    if "publish_room(" in source:
        source = (LUA_DIRECTORY / "room_message.lua").read_text() + source
    return _SCRIPT_OWNER.register_script(source)


def key(*parts: str) -> str:
    return ":".join((settings.REDIS_PREFIX, *parts))


def live_channel() -> str:
    return key("live")


def ops_channel() -> str:
    return key("ops")


def control_channel() -> str:
    return key("control")


def schedules_channel() -> str:
    """Where a sync names the rooms whose schedule it changed: the worker's now/next timer wakes on it."""
    return key("schedules")


def connect(**options: Any) -> Redis:
    """A client for REDIS_URL (or the master of REDIS_SENTINELS).

    redis-py 8 defaults to a 5 s read timeout and a pool that fails at 100
    connections instead of waiting; commands here get a short timeout (Redis
    answers in microseconds, so a slow answer means trouble) and a pool that
    waits. Subscriptions keep it too: their idle reads go through
    tracker.encoders.subscription, which tells a quiet Redis from a lost one.
    """
    options = {
        "max_connections": 200,
        "timeout": 2,  # waiting for a pooled connection
        "socket_timeout": 2,  # a Redis that takes longer is treated as down: 503, not a hang
        "socket_connect_timeout": 2,
        "decode_responses": True,
        # A pooled connection found dead (Redis restarted) is reconnected and
        # the command sent once more, instead of a 503 per stale connection.
        # Timeouts are not retried: a stuck Redis must stay a quick 503.
        "retry": Retry(NoBackoff(), 1),
        "retry_on_error": [RedisConnectionError],
        **options,
    }
    if settings.REDIS_SENTINELS:
        return sentinel_master(options)
    return Redis(connection_pool=BlockingConnectionPool.from_url(settings.REDIS_URL, **options))


def sentinel_master(options: dict[str, Any]) -> Redis:
    """A client of the master that REDIS_SENTINELS watch, following failovers."""
    url = urlsplit(settings.REDIS_URL)
    sentinels = [(host, int(port)) for host, _, port in (s.rpartition(":") for s in settings.REDIS_SENTINELS)]
    options = {k: v for k, v in options.items() if k not in ("max_connections", "timeout")}
    # The sentinels are asked with the same password and timeouts as the master.
    sentinel = Sentinel(
        sentinels,
        socket_timeout=options["socket_timeout"],
        sentinel_kwargs={"password": unquote(url.password)} if url.password else None,
    )
    return sentinel.master_for(
        settings.REDIS_SENTINEL_MASTER,
        db=int(url.path.lstrip("/") or 0),
        password=unquote(url.password) if url.password else None,
        **options,
    )


_clients: PerLoop[Redis] = PerLoop(connect)


def get_redis() -> Redis:
    """The shared client of the running event loop (one pool per loop)."""
    return _clients.get()


@dataclass(frozen=True)
class RoomState:
    reports: dict[str, dict[str, Any]]  # encoder -> public report, live encoders only
    attrs: dict[str, Any]  # viewers, nownext, ...


@dataclass(frozen=True)
class Snapshot:
    version: int
    rooms: dict[str, RoomState]


def encode_json(report: Any) -> str:
    """Canonical JSON, so an unchanged value compares equal in Lua."""
    return json.dumps(report, sort_keys=True, separators=(",", ":"))


def history_hours() -> int:
    """How long transition logs and clients/bitrate history are kept (the config's history-hours)."""
    return get_config().settings["history-hours"]


def readable(where: str, text: Any, parse: Callable[[Any], T]) -> T | None:
    """`parse(text)`, or None for a stored value that is not what we store, logged once per key.

    Every loop over stored values reads them through this, so one value
    written by hand or by a bug is skipped instead of stopping the loop.
    """
    try:
        return parse(text)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        if where not in _reported:
            if len(_reported) > 10_000:
                _reported.clear()
            _reported.add(where)
            logger.warning("skipping unreadable %r: %s", where, exc)  # %r: a key may hold CR/LF
        return None


def parse_records(flat: dict[str, str]) -> list[Record]:
    """The readable records of a records hash (member -> text)."""
    parsed = (readable(key("records", member), text, Record.from_json) for member, text in flat.items())
    return [record for record in parsed if record is not None]


async def read_record(redis: Redis, member: str) -> Record | None:
    """An encoder's record, or None; an unreadable one is quarantined (so None) and logged."""
    text = await redis.hget(key("records"), member)
    if not text:
        return None
    try:
        return Record.from_json(text)
    except Unreadable as exc:
        await quarantine(redis, member, text, exc)
        return None


async def quarantine(redis: Redis, member: str, text: str, error: Exception) -> None:
    """Move an unreadable record aside, as if the encoder were removed; its next heartbeat starts afresh."""
    room, _, name = member.partition("/")
    if await remove_encoder(redis, room, name, unreadable=text):
        logger.error("quarantined the unreadable record %r (%s) for %d s", member, error, QUARANTINE_SECONDS)


COMMIT_LUA = load_script("commit")


async def commit(
    redis: Redis,
    *,
    expected_seq: int,
    record: Record,
    public_changed: bool,
    transition: Transition | None,
    log_since: float,
) -> bool:
    """Store `record` if the stored one still has `expected_seq`; publish what changed.

    Returns False when another writer got there first: re-read and retry.
    """
    deadline = record.deadline()
    public = record.public_report()
    if not public_changed:
        public_change, public_text = "keep", ""
    elif public is None:
        public_change, public_text = "remove", ""
    else:
        public_change, public_text = "set", encode_json(public)
    version = await COMMIT_LUA(
        keys=[
            key("records"),
            key("deadlines"),
            key("room", record.room),
            key("version"),
            key("ops", "version"),
            key("log", record.room),
            key("attrs", record.room),
            key("assigned", record.room),
            key("hist", "enc", record.member),
            key("members", record.room),
        ],
        args=[
            record.member,
            expected_seq,
            record.to_json(),
            "" if deadline is None else repr(deadline),
            public_change,
            public_text,
            record.name,
            record.room,
            live_channel(),
            ops_channel(),
            transition.to_json() if transition else "",
            max(0, int(log_since * 1000)),  # stream ids are milliseconds, never negative
        ],
        client=redis,
    )
    if version == -2:
        raise Unreadable(f"the stored record of {record.member} is not JSON that Redis can read")
    return version != -1


REMOVE_LUA = load_script("remove")


async def remove_encoder(redis: Redis, room: str, name: str, *, unreadable: str = "") -> bool:
    """Forget an encoder's state everywhere; False if there was none.

    With `unreadable` (its record's text), only if the record is still that
    text, and it is kept under <prefix>:quarantine:<member> for a while.
    """
    member = member_of(room, name)
    version = await REMOVE_LUA(
        keys=[
            key("records"),
            key("deadlines"),
            key("room", room),
            key("version"),
            key("ops", "version"),
            key("attrs", room),
            key("quarantine", member),
            key("hist", "enc", member),
            key("alerts", "memory"),
            key("members", room),
        ],
        args=[
            member,
            name,
            room,
            live_channel(),
            ops_channel(),
            unreadable,
            QUARANTINE_SECONDS,
            history_hours() * 3600,
        ],
        client=redis,
    )
    return version != 0


async def due_members(redis: Redis, *, now: float, limit: int = 500) -> list[str]:
    """Encoders whose deadline is at or before `now`."""
    return await redis.zrangebyscore(key("deadlines"), "-inf", now, start=0, num=limit)


async def judged_members(redis: Redis) -> list[str]:
    """Every encoder with a deadline, i.e. being judged by the sweeper."""
    return await redis.zrange(key("deadlines"), 0, -1)


async def forget_deadline(redis: Redis, member: str) -> None:
    await redis.zrem(key("deadlines"), member)


async def next_deadline(redis: Redis) -> float | None:
    first = await redis.zrange(key("deadlines"), 0, 0, withscores=True)
    return first[0][1] if first else None


SNAPSHOT_LUA = load_script("snapshot")


async def read_snapshot(redis: Redis, rooms: list[str]) -> Snapshot:
    room_keys = [k for room in rooms for k in (key("room", room), key("attrs", room))]
    version, *hashes = await SNAPSHOT_LUA(keys=[key("version"), *room_keys], client=redis)
    return Snapshot(
        version=int(version),
        rooms={
            room: RoomState(
                reports=decode_flat(reports, key("room", room)), attrs=decode_flat(attrs, key("attrs", room))
            )
            for room, reports, attrs in zip(rooms, hashes[::2], hashes[1::2], strict=True)
        },
    )


SET_ATTR_LUA = load_script("set_attr")


async def set_room_attr(redis: Redis, room: str, name: str, value: Any, *, default: Any = None) -> int:
    """Set a room attribute and publish the room if it changed; returns the version or 0.

    `default` is what viewers assume while the attribute was never set.
    """
    return await SET_ATTR_LUA(
        keys=[key("room", room), key("attrs", room), key("version")],
        args=[name, encode_json(value), room, live_channel(), encode_json(default)],
        client=redis,
    )


async def set_viewer_counts(redis: Redis, counts: dict[str, int]) -> None:
    """Store each room's viewer count as a room attribute, without a version or a message.

    Web processes read the counts every few seconds and pass on changes
    (tracker.live.hub): a count is not a room change every viewer must get.
    """
    async with redis.pipeline(transaction=False) as pipe:
        for room, count in counts.items():
            pipe.hset(key("attrs", room), "viewers", encode_json(count))
        await pipe.execute()


async def read_viewer_counts(redis: Redis, rooms: list[str]) -> dict[str, int]:
    async with redis.pipeline(transaction=False) as pipe:
        for room in rooms:
            pipe.hget(key("attrs", room), "viewers")
        values = await pipe.execute()
    counts = {
        room: readable(f"attrs/{room}/viewers", value, json.loads)
        for room, value in zip(rooms, values, strict=True)
        if value is not None
    }
    return {room: count for room, count in counts.items() if isinstance(count, int)}


def decode_flat(flat: list[str], where: str = "hash") -> dict[str, Any]:
    """Turn a hash of JSON values as Lua returns it (name, value, name, ...) into a dict, skipping unreadable ones."""
    pairs = (
        (name, readable(f"{where}/{name}", text, json.loads)) for name, text in zip(flat[::2], flat[1::2], strict=True)
    )
    return {name: value for name, value in pairs if value is not None}


@dataclass(frozen=True)
class OpsSnapshot:
    version: int
    records: list[Record]
    audience: dict[str, Any]  # room -> viewers and playback health
    schedules: dict[str, Any]  # room -> schedule fetch health
    states: dict[str, Any]  # room -> its judged state (tracker.live.room_state)
    logs: dict[str, list[dict[str, Any]]]  # room -> transitions, newest first


OPS_SNAPSHOT_LUA = load_script("ops_snapshot")


async def read_ops_snapshot(redis: Redis, rooms: list[str], *, log_entries: int = 50) -> OpsSnapshot:
    """Every encoder record and each room's latest transitions, read atomically."""
    version, flat_records, audience, schedules, states, *logs = await OPS_SNAPSHOT_LUA(
        keys=[
            key("ops", "version"),
            key("records"),
            key("ops", "audience"),
            key("ops", "schedules"),
            key("ops", "rooms"),
            *(key("log", room) for room in rooms),
        ],
        args=[log_entries],
        client=redis,
    )
    return OpsSnapshot(
        version=int(version),
        records=parse_records(dict(zip(flat_records[::2], flat_records[1::2], strict=True))),
        audience=readable(key("ops", "audience"), audience, json.loads) or {},
        schedules=readable(key("ops", "schedules"), schedules, json.loads) or {},
        states=readable(key("ops", "rooms"), states, json.loads) or {},
        logs={room: read_log(room, entries) for room, entries in zip(rooms, logs, strict=True)},
    )


def read_log(room: str, entries: list[Any]) -> list[dict[str, Any]]:
    """A room log's transitions as XREVRANGE returns them, without entries that are not ours."""
    where = key("log", room)
    transitions = (readable(f"{where}/{entry[0]}", entry[1][1], json.loads) for entry in entries)
    return [transition for transition in transitions if isinstance(transition, dict)]


async def assign_stream(redis: Redis, room: str, url: str) -> None:
    """Count a viewer sent to `url` until its encoder next reports."""
    await redis.hincrby(key("assigned", room), url, 1)


ROOM_RECORDS_LUA = load_script("room_records")


async def records_and_assigned(redis: Redis, room: str) -> tuple[list[Record], dict[str, int]]:
    """The room's encoder records, and the viewers sent to each of its streams since its last report.

    Read through the room's member set: the cost follows the room's encoders, not the site's.
    """
    members, texts, assigned = await ROOM_RECORDS_LUA(
        keys=[key("members", room), key("records"), key("assigned", room)], client=redis
    )
    records = parse_records({member: text for member, text in zip(members, texts, strict=True) if text})
    return records, {url: int(count) for url, count in zip(assigned[::2], assigned[1::2], strict=True)}


async def read_records(redis: Redis, *, room: str | None = None) -> list[Record]:
    """Every encoder's record, or one room's."""
    if room is not None:
        return (await records_and_assigned(redis, room))[0]
    return parse_records(await redis.hgetall(key("records")))


INDEX_ROOMS_LUA = load_script("index_rooms")


async def index_rooms(redis: Redis) -> int:
    """Put every stored record in its room's member set (records kept from before the sets existed)."""
    return int(await INDEX_ROOMS_LUA(keys=[key("records")], args=[key("members", "")], client=redis))


async def get_ops_state(redis: Redis, name: str) -> dict[str, Any]:
    text = await redis.get(key("ops", name))
    return (readable(key("ops", name), text, json.loads) or {}) if text else {}


SET_AND_ANNOUNCE_LUA = load_script("set_and_announce")


async def set_and_announce(
    redis: Redis, *, value_key: str, version_key: str | None, value: Any, channel: str, head: str, send_value: bool
) -> int:
    """Store `value` under `value_key`; if it changed, publish `head` with the feed's next version
    (none without a `version_key`) and the value."""
    return await SET_AND_ANNOUNCE_LUA(
        keys=[value_key] if version_key is None else [value_key, version_key],
        args=[encode_json(value), channel, head, "1" if send_value else "0"],
        client=redis,
    )


async def set_ops_state(redis: Redis, name: str, value: Any, *, versioned: bool = True) -> int:
    """Store an operators' state (schedule health; unversioned: the audience) and push it if it changed."""
    return await set_and_announce(
        redis,
        value_key=key("ops", name),
        version_key=key("ops", "version") if versioned else None,
        value=value,
        channel=ops_channel(),
        head=f'"type":{json.dumps(name)}',
        send_value=True,
    )


async def set_schedule(redis: Redis, room: str, events: list[dict[str, Any]]) -> int:
    """Store a room's events and tell viewers if they changed; returns the version or 0.

    The notice carries no events: pages that show the programme fetch it.
    """
    return await set_and_announce(
        redis,
        value_key=key("schedule", room),
        version_key=key("version"),
        value=events,
        channel=live_channel(),
        head=f'"type":"schedule","room":{json.dumps(room)}',
        send_value=False,
    )


async def get_schedule(redis: Redis, room: str) -> list[dict[str, Any]] | None:
    """A room's stored events, or None if it has never had a schedule."""
    text = await redis.get(key("schedule", room))
    return readable(key("schedule", room), text, json.loads) if text else None


ROOM_STATES_LUA = load_script("room_states")


async def set_room_states(
    redis: Redis, states: dict[str, Any], changes: dict[str, dict[str, Any]], *, now: float
) -> int:
    """Store every room's judged state; log each change in its room's log; push it all if anything changed.

    Returns the ops feed's version, or 0 when nothing changed.
    """
    oldest = max(0, int((now - history_hours() * 3600) * 1000))
    return await ROOM_STATES_LUA(
        keys=[key("ops", "rooms"), key("ops", "version"), *(key("log", room) for room in changes)],
        args=[encode_json(states), ops_channel(), oldest, *(encode_json(change) for change in changes.values())],
        client=redis,
    )
