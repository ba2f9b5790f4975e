"""Live state in Redis: encoder records, deadlines, public rooms, versions.

Every change is written, versioned and published by one Lua script, so the
published messages reach every subscriber in version order (Redis runs
scripts one at a time and delivers a connection's pub/sub messages in
publish order). Browsers rely on that order to notice a lost message: a
version gap means "ask for a snapshot".

Layout, under settings.REDIS_PREFIX:
    <prefix>:records       hash   "<room>/<encoder>" -> health.Record JSON (operators' view)
    <prefix>:deadlines     zset   "<room>/<encoder>" -> when the sweeper must look again
    <prefix>:room:<room>   hash   encoder -> public report, for live encoders only
    <prefix>:attrs:<room>  hash   room attribute (viewers, nownext) -> JSON value
    <prefix>:version       int    public feed version;  <prefix>:live  its channel
    <prefix>:ops:version   int    operator feed version; <prefix>:ops  its channel
    <prefix>:log:<room>    stream transitions of the room's encoders, trimmed by time
    <prefix>:tokens        hash   sha256(token) -> health.Identity JSON
    <prefix>:revoked:<h>   string set for a while after token hash <h> was revoked
    <prefix>:control       pub/sub channel for orders to web processes (revocations)
    <prefix>:quarantine:<member>  string  an unreadable record moved aside, kept QUARANTINE_SECONDS
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from django.conf import settings
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from .config import get_config
from .health import Record, Transition, Unreadable

logger = logging.getLogger(__name__)
T = TypeVar("T")
# An unreadable record is moved aside, not deleted: kept this long for a person to look at.
QUARANTINE_SECONDS = 7 * 24 * 3600
# Keys already logged as unreadable by this process (each is logged once; bounded).
_reported: set[str] = set()


class LuaScript:
    """A Lua script run by its SHA (EVALSHA), sent whole only when Redis lacks it.

    The scripts here are a few hundred bytes; a heartbeat should not carry them.
    """

    def __init__(self, source: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, redis: Redis, numkeys: int, *keys_and_args: Any) -> Any:
        try:
            return await redis.evalsha(self.sha, numkeys, *keys_and_args)
        except NoScriptError:  # first use since Redis started
            return await redis.eval(self.source, numkeys, *keys_and_args)


# Builds {"type": "room", "version": N, "room": name, "encoders": {...},
# "attrs": {...}} from the room's hashes; values are already JSON, so they
# are pasted, not re-encoded.
ROOM_MESSAGE_LUA = """
local function json_object(flat)
  local parts = {}
  for i = 1, #flat, 2 do
    parts[#parts + 1] = cjson.encode(flat[i]) .. ':' .. flat[i + 1]
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
local function publish_room(room_key, attrs_key, room, version_key, channel)
  local version = redis.call('INCR', version_key)
  redis.call('PUBLISH', channel, '{"type":"room","version":' .. version ..
    ',"room":' .. cjson.encode(room) .. ',"encoders":' .. json_object(redis.call('HGETALL', room_key)) ..
    ',"attrs":' .. json_object(redis.call('HGETALL', attrs_key)) .. '}')
  return version
end
"""

# KEYS: room hash, attrs hash, version. ARGV: attribute, JSON value, room,
# channel, JSON value that an absent attribute stands for.
# A room attribute is what else viewers see of a room: its viewer count, or
# the talk on now and next. Publishes only when the value changed.
SET_ATTR_LUA = LuaScript(
    ROOM_MESSAGE_LUA
    + """
if (redis.call('HGET', KEYS[2], ARGV[1]) or ARGV[5]) == ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return publish_room(KEYS[1], KEYS[2], ARGV[3], KEYS[3], ARGV[4])
"""
)

# The one write path for encoder state, a compare-and-set on the record's
# `seq`: the caller read the record, computed its successor in Python
# (tracker.health) and commits it here only if nobody changed it meanwhile.
# That is what keeps two sweepers, or a sweeper and a heartbeat, from
# reporting one change twice.
# KEYS: records, deadlines, room hash, live version, ops version, room log,
# room attrs, viewers assigned per stream URL since its last report, the
# encoder's history series (kept again for good once it reports again).
# ARGV: member, expected seq, record, deadline ('' = none), public report
# ('=' unchanged, '' gone), encoder, room, live channel, ops channel,
# transition ('' = none), oldest log id to keep.
COMMIT_LUA = LuaScript(
    ROOM_MESSAGE_LUA
    + """
-- Everything is read and checked before the first write: Redis does not undo
-- the writes of a script that fails half way.
local new = cjson.decode(ARGV[3])
local current = redis.call('HGET', KEYS[1], ARGV[1])
local seq = 0
if current then
  local ok, stored = pcall(cjson.decode, current)
  if not ok or type(stored) ~= 'table' or type(stored['seq']) ~= 'number' then
    return -2
  end
  seq = stored['seq']
end
if seq ~= tonumber(ARGV[2]) then
  return -1
end
if not current then
  redis.call('PERSIST', KEYS[9])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
-- Its new report counts the viewers sent to it so far: start counting afresh.
for _, stream in ipairs(new['streams']) do
  redis.call('HDEL', KEYS[8], stream['url'])
end
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
if ARGV[5] ~= '=' then
  if ARGV[5] == '' then
    redis.call('HDEL', KEYS[3], ARGV[6])
  else
    redis.call('HSET', KEYS[3], ARGV[6], ARGV[5])
  end
  publish_room(KEYS[3], KEYS[7], ARGV[7], KEYS[4], ARGV[8])
end
local transition = 'null'
if ARGV[10] ~= '' then
  transition = ARGV[10]
  redis.call('XADD', KEYS[6], 'MINID', '~', ARGV[11], '*', 'transition', transition)
end
local version = redis.call('INCR', KEYS[5])
redis.call('PUBLISH', ARGV[9], '{"type":"encoder","version":' .. version ..
  ',"encoder":' .. ARGV[3] .. ',"transition":' .. transition .. '}')
return version
"""
)

# KEYS: records, deadlines, room hash, live version, ops version, room attrs,
# quarantine key, the encoder's history series, alert memory. ARGV: member,
# encoder, room, live channel, ops channel, the record's text ('' = whatever
# it is), quarantine seconds, history seconds.
# Forgets an encoder (revoked, or down for longer than history is kept); with
# a record's text, only if it is still that text, keeping a copy for a while
# (an unreadable record, moved aside so it stops nobody). Its history stays
# as long as history is kept, then expires; its alert memory goes now.
REMOVE_LUA = LuaScript(
    ROOM_MESSAGE_LUA
    + """
if ARGV[6] ~= '' then
  if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[6] then
    return 0
  end
  redis.call('SET', KEYS[7], ARGV[6], 'EX', ARGV[7])
end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[8], ARGV[8])
redis.call('HDEL', KEYS[9], ARGV[1])
if redis.call('HDEL', KEYS[3], ARGV[2]) == 1 then
  publish_room(KEYS[3], KEYS[6], ARGV[3], KEYS[4], ARGV[4])
end
local version = redis.call('INCR', KEYS[5])
redis.call('PUBLISH', ARGV[5], '{"type":"removed","version":' .. version .. ',"room":' .. cjson.encode(ARGV[3]) ..
  ',"name":' .. cjson.encode(ARGV[2]) .. '}')
return version
"""
)

# KEYS: a key, the feed's version. ARGV: JSON value, channel, message head,
# "1" to send the value along.
# Stores a value and, if it changed, publishes the head (a JSON object's
# fields, without braces) with the next version, and the value as "data".
# Rooms' schedules tell viewers this way, and operators' site-wide states
# (the audience, schedule health) reach the dashboard.
SET_AND_ANNOUNCE_LUA = LuaScript(
    """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
local version = redis.call('INCR', KEYS[2])
local data = ''
if ARGV[4] == '1' then data = ',"data":' .. ARGV[1] end
redis.call('PUBLISH', ARGV[2], '{' .. ARGV[3] .. ',"version":' .. version .. data .. '}')
return version
"""
)

# KEYS: version, then each room's hash and attrs hash. Reads them all in one
# atomic step so the snapshot and its version agree.
SNAPSHOT_LUA = LuaScript(
    """
local result = {redis.call('GET', KEYS[1]) or '0'}
for i = 2, #KEYS do
  result[i] = redis.call('HGETALL', KEYS[i])
end
return result
"""
)

# KEYS: ops version, records, audience, schedule health, then one log stream
# per room. ARGV: entries per log.
OPS_SNAPSHOT_LUA = LuaScript(
    """
local result = {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2]),
                redis.call('GET', KEYS[3]) or '{}', redis.call('GET', KEYS[4]) or '{}'}
for i = 5, #KEYS do
  result[i] = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', ARGV[1])
end
return result
"""
)

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = weakref.WeakKeyDictionary()


def key(*parts: str) -> str:
    return ":".join((settings.REDIS_PREFIX, *parts))


def live_channel() -> str:
    return key("live")


def ops_channel() -> str:
    return key("ops")


def control_channel() -> str:
    return key("control")


def connect(**options: Any) -> Redis:
    """A client for REDIS_URL (or the master of REDIS_SENTINELS).

    redis-py 8 defaults to a 5 s read timeout and a pool that fails at 100
    connections instead of waiting; commands here get a short timeout (Redis
    answers in microseconds, so a slow answer means trouble) and a pool that
    waits. The pub/sub listener passes socket_timeout=None: it idles by design.
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


def get_redis() -> Redis:
    """The shared client of the running event loop (one pool per loop)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = connect()
    return client


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
    version = await COMMIT_LUA(
        redis,
        9,
        key("records"),
        key("deadlines"),
        key("room", record.room),
        key("version"),
        key("ops", "version"),
        key("log", record.room),
        key("attrs", record.room),
        key("assigned", record.room),
        key("hist", "enc", record.member),
        record.member,
        expected_seq,
        record.to_json(),
        "" if deadline is None else repr(deadline),
        ("" if public is None else encode_json(public)) if public_changed else "=",
        record.name,
        record.room,
        live_channel(),
        ops_channel(),
        transition.to_json() if transition else "",
        max(0, int(log_since * 1000)),  # stream ids are milliseconds, never negative
    )
    if version == -2:
        raise Unreadable(f"the stored record of {record.member} is not JSON that Redis can read")
    return version != -1


async def remove_encoder(redis: Redis, room: str, name: str, *, unreadable: str = "") -> bool:
    """Forget an encoder's state everywhere; False if there was none.

    With `unreadable` (its record's text), only if the record is still that
    text, and it is kept under <prefix>:quarantine:<member> for a while.
    """
    member = f"{room}/{name}"
    version = await REMOVE_LUA(
        redis,
        9,
        key("records"),
        key("deadlines"),
        key("room", room),
        key("version"),
        key("ops", "version"),
        key("attrs", room),
        key("quarantine", member),
        key("hist", "enc", member),
        key("alerts", "memory"),
        member,
        name,
        room,
        live_channel(),
        ops_channel(),
        unreadable,
        QUARANTINE_SECONDS,
        history_hours() * 3600,
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


async def read_snapshot(redis: Redis, rooms: list[str]) -> Snapshot:
    keys = [k for room in rooms for k in (key("room", room), key("attrs", room))]
    version, *hashes = await SNAPSHOT_LUA(redis, 1 + len(keys), key("version"), *keys)
    return Snapshot(
        version=int(version),
        rooms={
            room: RoomState(
                reports=decode_flat(reports, key("room", room)), attrs=decode_flat(attrs, key("attrs", room))
            )
            for room, reports, attrs in zip(rooms, hashes[::2], hashes[1::2], strict=True)
        },
    )


async def set_room_attr(redis: Redis, room: str, name: str, value: Any, *, default: Any = None) -> int:
    """Set a room attribute and publish the room if it changed; returns the version or 0.

    `default` is what viewers assume while the attribute was never set.
    """
    return await SET_ATTR_LUA(
        redis,
        3,
        key("room", room),
        key("attrs", room),
        key("version"),
        name,
        encode_json(value),
        room,
        live_channel(),
        encode_json(default),
    )


async def set_viewer_counts(redis: Redis, counts: dict[str, int]) -> None:
    """Store each room's viewer count as a room attribute, without a version or a message.

    Web processes read the counts every few seconds and pass on changes
    (tracker.live): a count is not a room change every viewer must get.
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
    logs: dict[str, list[dict[str, Any]]]  # room -> transitions, newest first


async def read_ops_snapshot(redis: Redis, rooms: list[str], *, log_entries: int = 50) -> OpsSnapshot:
    """Every encoder record and each room's latest transitions, read atomically."""
    version, flat_records, audience, schedules, *logs = await OPS_SNAPSHOT_LUA(
        redis,
        4 + len(rooms),
        key("ops", "version"),
        key("records"),
        key("ops", "audience"),
        key("ops", "schedules"),
        *(key("log", room) for room in rooms),
        log_entries,
    )
    return OpsSnapshot(
        version=int(version),
        records=parse_records(dict(zip(flat_records[::2], flat_records[1::2], strict=True))),
        audience=readable(key("ops", "audience"), audience, json.loads) or {},
        schedules=readable(key("ops", "schedules"), schedules, json.loads) or {},
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


def room_records(flat: dict[str, str], room: str) -> list[Record]:
    """The records of one room's encoders, parsing only those (members are "room/encoder")."""
    return parse_records({member: text for member, text in flat.items() if member.startswith(f"{room}/")})


async def records_and_assigned(redis: Redis, room: str) -> tuple[list[Record], dict[str, int]]:
    """The room's encoder records, and the viewers sent to each of its streams since its last report."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(key("records"))
        pipe.hgetall(key("assigned", room))
        records, assigned = await pipe.execute()
    return room_records(records, room), {url: int(count) for url, count in assigned.items()}


async def read_records(redis: Redis, *, room: str | None = None) -> list[Record]:
    """Every encoder's record, or one room's."""
    if room is not None:
        return room_records(await redis.hgetall(key("records")), room)
    return parse_records(await redis.hgetall(key("records")))


async def get_ops_state(redis: Redis, name: str) -> dict[str, Any]:
    text = await redis.get(key("ops", name))
    return (readable(key("ops", name), text, json.loads) or {}) if text else {}


async def set_ops_state(redis: Redis, name: str, value: Any) -> int:
    """Store an operators' state (audience, schedules) and push it if it changed."""
    head = f'"type":{json.dumps(name)}'
    return await SET_AND_ANNOUNCE_LUA(
        redis, 2, key("ops", name), key("ops", "version"), encode_json(value), ops_channel(), head, "1"
    )


async def set_schedule(redis: Redis, room: str, events: list[dict[str, Any]]) -> int:
    """Store a room's events and tell viewers if they changed; returns the version or 0.

    The notice carries no events: pages that show the programme fetch it.
    """
    head = f'"type":"schedule","room":{json.dumps(room)}'
    return await SET_AND_ANNOUNCE_LUA(
        redis, 2, key("schedule", room), key("version"), encode_json(events), live_channel(), head, "0"
    )


async def get_schedule(redis: Redis, room: str) -> list[dict[str, Any]] | None:
    """A room's stored events, or None if it has never had a schedule."""
    text = await redis.get(key("schedule", room))
    return readable(key("schedule", room), text, json.loads) if text else None
