"""Live state in Redis: encoders per room, their deadlines, and a version.

Every change is written, versioned and published by one Lua script, so one
heartbeat is one Redis round trip and the published messages reach every
subscriber in version order (Redis runs scripts one at a time and delivers
a connection's pub/sub messages in publish order). Browsers rely on that
order to notice a lost message: a version gap means "ask for a snapshot".

Layout, under settings.REDIS_PREFIX:
    <prefix>:room:<room>   hash   encoder name -> canonical JSON of its report
    <prefix>:deadlines     zset   "<room>/<encoder>" -> epoch seconds it goes offline
    <prefix>:version       int    bumped on every published change
    <prefix>:live          pub/sub channel of room messages
"""

from __future__ import annotations

import asyncio
import json
import weakref
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from redis.asyncio import BlockingConnectionPool, Redis

# Builds {"type": "room", "version": N, "room": name, "encoders": {...}} from
# the room hash; values are already JSON, so they are pasted, not re-encoded.
ROOM_MESSAGE_LUA = """
local function publish_room(room_key, room, version_key, channel)
  local version = redis.call('INCR', version_key)
  local flat = redis.call('HGETALL', room_key)
  local parts = {}
  for i = 1, #flat, 2 do
    parts[#parts + 1] = cjson.encode(flat[i]) .. ':' .. flat[i + 1]
  end
  redis.call('PUBLISH', channel, '{"type":"room","version":' .. version ..
    ',"room":' .. cjson.encode(room) .. ',"encoders":{' .. table.concat(parts, ',') .. '}}')
  return version
end
"""

# KEYS: room hash, deadlines, version. ARGV: room, encoder, report, deadline, channel.
# The deadline always moves; a message goes out only when the report changed.
HEARTBEAT_LUA = (
    ROOM_MESSAGE_LUA
    + """
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1] .. '/' .. ARGV[2])
if redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return publish_room(KEYS[1], ARGV[1], KEYS[3], ARGV[5])
"""
)

# KEYS: deadlines, version. ARGV: now, key prefix, channel, batch size.
# Removing the member is the compare-and-set: a second sweeper running the
# same script afterwards no longer finds it, so a change is reported once.
EXPIRE_LUA = (
    ROOM_MESSAGE_LUA
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[1], member)
  local slash = string.find(member, '/', 1, true)
  local room = string.sub(member, 1, slash - 1)
  local room_key = ARGV[2] .. ':room:' .. room
  redis.call('HDEL', room_key, string.sub(member, slash + 1))
  publish_room(room_key, room, KEYS[2], ARGV[3])
end
return expired
"""
)

# KEYS: version, then one hash per room. Reads them all in one atomic step so
# the snapshot and its version agree.
SNAPSHOT_LUA = """
local result = {redis.call('GET', KEYS[1]) or '0'}
for i = 2, #KEYS do
  result[i] = redis.call('HGETALL', KEYS[i])
end
return result
"""

EXPIRE_BATCH = 500

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = weakref.WeakKeyDictionary()


def key(*parts: str) -> str:
    return ":".join((settings.REDIS_PREFIX, *parts))


def live_channel() -> str:
    return key("live")


def connect(**options: Any) -> Redis:
    """A client for REDIS_URL.

    redis-py 8 defaults to a 5 s read timeout and a pool that fails at 100
    connections instead of waiting; commands here get a short timeout (Redis
    answers in microseconds, so a slow answer means trouble) and a pool that
    waits. The pub/sub listener passes socket_timeout=None: it idles by design.
    """
    pool = BlockingConnectionPool.from_url(
        settings.REDIS_URL,
        max_connections=options.pop("max_connections", 200),
        timeout=options.pop("pool_timeout", 5),
        socket_timeout=options.pop("socket_timeout", 5),
        socket_connect_timeout=options.pop("socket_connect_timeout", 5),
        decode_responses=True,
        **options,
    )
    return Redis(connection_pool=pool)


def get_redis() -> Redis:
    """The shared client of the running event loop (one pool per loop)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = connect()
    return client


@dataclass(frozen=True)
class Snapshot:
    version: int
    rooms: dict[str, dict[str, dict[str, Any]]]  # room -> encoder -> report


def encode_report(report: dict[str, Any]) -> str:
    """Canonical JSON, so an unchanged report compares equal in Lua."""
    return json.dumps(report, sort_keys=True, separators=(",", ":"))


async def record_heartbeat(redis: Redis, *, room: str, encoder: str, report: dict[str, Any], deadline: float) -> int:
    """Store an encoder's report; returns the new version, or 0 if nothing changed."""
    return await redis.eval(
        HEARTBEAT_LUA,
        3,
        key("room", room),
        key("deadlines"),
        key("version"),
        room,
        encoder,
        encode_report(report),
        repr(deadline),
        live_channel(),
    )


async def expire_due(redis: Redis, *, now: float) -> list[str]:
    """Take encoders whose deadline has passed offline; returns "room/encoder" names."""
    expired: list[str] = []
    while True:
        batch = await redis.eval(
            EXPIRE_LUA,
            2,
            key("deadlines"),
            key("version"),
            repr(now),
            settings.REDIS_PREFIX,
            live_channel(),
            EXPIRE_BATCH,
        )
        expired.extend(batch)
        if len(batch) < EXPIRE_BATCH:
            return expired


async def next_deadline(redis: Redis) -> float | None:
    first = await redis.zrange(key("deadlines"), 0, 0, withscores=True)
    return first[0][1] if first else None


async def read_snapshot(redis: Redis, rooms: list[str]) -> Snapshot:
    version, *hashes = await redis.eval(SNAPSHOT_LUA, 1 + len(rooms), key("version"), *(key("room", r) for r in rooms))
    return Snapshot(
        version=int(version),
        rooms={room: decode_encoders(flat) for room, flat in zip(rooms, hashes, strict=True)},
    )


def decode_encoders(flat: list[str]) -> dict[str, dict[str, Any]]:
    """Turn a room hash as Lua returns it (name, report, name, ...) into reports."""
    return {name: json.loads(report) for name, report in zip(flat[::2], flat[1::2], strict=True)}
