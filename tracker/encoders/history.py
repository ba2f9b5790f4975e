"""Clients, encoding bitrate and outgoing bandwidth over time, per room and per encoder, in Redis streams;
per room also the tabs open on this site's pages (the live feed's viewer count).

Encoding bitrate is what the live streams are encoded at (summed); bandwidth
is what goes out to viewers (measured by the streaming server, else clients
times bitrate). The graphs' "Outgoing bandwidth" is the latter.

The worker adds one point per step. Stream ids are the step's start in
milliseconds, so a second worker writing the same step is refused by Redis
and a series never has two points per step. Old points are trimmed by id,
that is by time.
"""

from __future__ import annotations

from collections import defaultdict

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from tracker.encoders import store
from tracker.encoders.state_machine import LIVE_STATES, Record

STEP_SECONDS = 10
# epoch seconds, clients (players on the streaming servers), encoding bitrate, outgoing bandwidth (bit/s),
# tabs on this site (rooms only; 0 for encoders)
Point = tuple[float, int, int, int, int]
Figures = tuple[int, int, int]  # clients, encoding bitrate, outgoing bandwidth


def figures(record: Record) -> Figures:
    """An encoder's clients and bandwidth (its totals, counted-only streams included) and encoding bitrate."""
    return record.clients, sum(s["bitrate"] for s in record.streams), record.bandwidth


def totals(records: list[Record]) -> dict[str, Figures]:
    """Figures per member of live encoders."""
    return {record.member: figures(record) for record in records if record.state in LIVE_STATES}


async def add_points(redis: Redis, *, rooms: list[str], now: float, keep_hours: int) -> bool:
    """Write this step's point for every room and live encoder; False if already written."""
    records = await store.read_records(redis)
    tabs = await store.read_viewer_counts(redis, rooms)
    per_encoder = totals(records)
    per_room: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for member, values in per_encoder.items():
        room_total = per_room[member.split("/", 1)[0]]
        for index, value in enumerate(values):
            room_total[index] += value
    step_ms = int(now // STEP_SECONDS * STEP_SECONDS * 1000)
    oldest_ms = max(0, step_ms - keep_hours * 3600 * 1000)
    series: dict[str, dict[str, int]] = {}
    for room in rooms:
        clients, bitrate, bandwidth = per_room.get(room, [0, 0, 0])
        series[store.key("hist", "room", room)] = {"c": clients, "b": bitrate, "o": bandwidth, "v": tabs.get(room, 0)}
    for member, (clients, bitrate, bandwidth) in per_encoder.items():
        series[store.key("hist", "enc", member)] = {"c": clients, "b": bitrate, "o": bandwidth}
    async with redis.pipeline(transaction=False) as pipe:
        for stream, point in series.items():
            pipe.xadd(stream, point, id=f"{step_ms}-0", minid=oldest_ms, approximate=True)
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
    # Points written before bandwidth (or tabs) were kept have no "o" (or "v").
    figures = (int(fields["c"]), int(fields["b"]), int(fields.get("o", 0)), int(fields.get("v", 0)))
    return (int(point_id.split("-")[0]) / 1000, *figures)


async def room_series(redis: Redis, rooms: list[str], *, since: float) -> dict[str, list[Point]]:
    series = await read_series(redis, [store.key("hist", "room", room) for room in rooms], since=since)
    return dict(zip(rooms, series, strict=True))


async def encoder_series(redis: Redis, members: list[str], *, since: float) -> dict[str, list[Point]]:
    series = await read_series(redis, [store.key("hist", "enc", member) for member in members], since=since)
    return dict(zip(members, series, strict=True))


BUCKETS_LUA = store.load_script("history_buckets")
# A bucket of a chart: first point's time (s), peak clients, peak encoding bitrate, peak and summed bandwidth, points.
Bucket = tuple[float, int, int, int, int, int]


# Points summed up by one call of the script: Redis serves others between calls.
SLICE_SECONDS = 3600


async def buckets(redis: Redis, stream: str, *, since: float, until: float, seconds: float) -> list[Bucket]:
    """A series from `since` to `until` summed up in Redis into buckets of `seconds`, oldest first (with points)."""
    bucket_ms = max(1, int(seconds * 1000))
    slice_ms = bucket_ms * max(1, SLICE_SECONDS * 1000 // bucket_ms)
    first_ms, end_ms = int(since * 1000), int(until * 1000) + 1
    async with redis.pipeline(transaction=False) as pipe:
        for start_ms in range(first_ms, end_ms, slice_ms):
            await BUCKETS_LUA(keys=[stream], args=[start_ms, bucket_ms, start_ms + slice_ms - 1], client=pipe)
        slices = await pipe.execute()
    values = [int(float(value)) for flat in slices for value in flat]
    return [
        (values[i] / 1000, values[i + 1], values[i + 2], values[i + 3], values[i + 4], values[i + 5])
        for i in range(0, len(values), 6)
    ]
