"""Clients and bitrate over time, per room and per encoder, in Redis streams.

The worker adds one point per step. Stream ids are the step's start in
milliseconds, so a second worker writing the same step is refused by Redis
and a series never has two points per step. Old points are trimmed by id,
that is by time.
"""

from __future__ import annotations

from collections import defaultdict

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from . import store
from .health import LIVE_STATES, Record

STEP_SECONDS = 10
Point = tuple[float, int, int]  # epoch seconds, clients, bitrate


def totals(records: list[Record]) -> dict[str, tuple[int, int]]:
    """Clients and bitrate summed per member over live encoders' streams."""
    return {
        record.member: (sum(s["clients"] for s in record.streams), sum(s["bitrate"] for s in record.streams))
        for record in records
        if record.state in LIVE_STATES
    }


async def add_points(redis: Redis, *, rooms: list[str], now: float, keep_hours: int) -> bool:
    """Write this step's point for every room and live encoder; False if already written."""
    records = await store.read_records(redis)
    per_encoder = totals(records)
    per_room: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for member, (clients, bitrate) in per_encoder.items():
        room_total = per_room[member.split("/", 1)[0]]
        room_total[0] += clients
        room_total[1] += bitrate
    step_ms = int(now // STEP_SECONDS * STEP_SECONDS * 1000)
    oldest_ms = max(0, step_ms - keep_hours * 3600 * 1000)
    series = {store.key("hist", "room", room): per_room.get(room, [0, 0]) for room in rooms}
    series.update({store.key("hist", "enc", member): list(value) for member, value in per_encoder.items()})
    async with redis.pipeline(transaction=False) as pipe:
        for stream, (clients, bitrate) in series.items():
            pipe.xadd(stream, {"c": clients, "b": bitrate}, id=f"{step_ms}-0", minid=oldest_ms, approximate=True)
        results = await pipe.execute(raise_on_error=False)
    return not any(isinstance(result, ResponseError) for result in results)


async def read_series(redis: Redis, streams: list[str], *, since: float) -> list[list[Point]]:
    """Points at or after `since` for each stream key, oldest first."""
    async with redis.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xrange(stream, min=f"{int(since * 1000)}-0")
        answers = await pipe.execute()
    return [
        [p for entry in entries if (p := store.readable(f"{stream}/{entry[0]}", entry, point)) is not None]
        for stream, entries in zip(streams, answers, strict=True)
    ]


def point(entry: tuple[str, dict[str, str]]) -> Point:
    point_id, fields = entry
    return int(point_id.split("-")[0]) / 1000, int(fields["c"]), int(fields["b"])


async def room_series(redis: Redis, rooms: list[str], *, since: float) -> dict[str, list[Point]]:
    series = await read_series(redis, [store.key("hist", "room", room) for room in rooms], since=since)
    return dict(zip(rooms, series, strict=True))


async def encoder_series(redis: Redis, members: list[str], *, since: float) -> dict[str, list[Point]]:
    series = await read_series(redis, [store.key("hist", "enc", member) for member in members], since=since)
    return dict(zip(members, series, strict=True))
