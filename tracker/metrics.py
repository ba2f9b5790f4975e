"""/tracker/metrics in the Prometheus text format."""

from __future__ import annotations

import time
from collections import Counter

from redis.asyncio import Redis

from . import history, site_health, store
from .config import get_config
from .health import State


def label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


async def exposition(redis: Redis) -> str:
    """The current figures, site-wide."""
    rooms = list(get_config().rooms)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(store.key("records"))
        pipe.get(store.key("stats", "heartbeats"))
        pipe.get(store.key("stats", "pushed"))
        records_text, heartbeats, pushed = await pipe.execute()
    records = store.parse_records(records_text)
    states = Counter(record.state for record in records)
    lines = [
        "# HELP streaming_encoders Encoders by health state.",
        "# TYPE streaming_encoders gauge",
        *(f'streaming_encoders{{state="{state}"}} {states.get(state, 0)}' for state in State),
        "# HELP streaming_room_live Whether the room has a live stream.",
        "# TYPE streaming_room_live gauge",
        "# HELP streaming_room_clients Clients of the room's live encoders, as they report them.",
        "# TYPE streaming_room_clients gauge",
        "# HELP streaming_room_bitrate_bits Encoding bit/s of the room's live streams, summed.",
        "# TYPE streaming_room_bitrate_bits gauge",
        "# HELP streaming_room_bandwidth_bits Outgoing bit/s to viewers of the room's live encoders.",
        "# TYPE streaming_room_bandwidth_bits gauge",
    ]
    for room in rooms:
        live = [record for record in records if record.room == room and record.live]
        figures = [history.figures(record) for record in live]
        clients, bitrate, bandwidth = (sum(f[i] for f in figures) for i in range(3))
        name = label(room)
        lines += [
            f'streaming_room_live{{room="{name}"}} {int(any(record.streams for record in live))}',
            f'streaming_room_clients{{room="{name}"}} {clients}',
            f'streaming_room_bitrate_bits{{room="{name}"}} {bitrate}',
            f'streaming_room_bandwidth_bits{{room="{name}"}} {bandwidth}',
        ]
    lines += [
        "# HELP streaming_heartbeats_total Heartbeats received.",
        "# TYPE streaming_heartbeats_total counter",
        f"streaming_heartbeats_total {int(heartbeats or 0)}",
        "# HELP streaming_push_messages_total Messages written to viewers' live sockets.",
        "# TYPE streaming_push_messages_total counter",
        f"streaming_push_messages_total {int(pushed or 0)}",
        *worker_lines(await site_health.worker_age(redis, now=time.time())),
    ]
    return "\n".join(lines) + "\n"


def worker_lines(age: float | None) -> list[str]:
    """The worker's liveness: absent until a worker ever ran, then the age of its last stamp."""
    lines = [
        "# HELP streaming_worker_seen_seconds_ago Seconds since a worker last showed it is alive.",
        "# TYPE streaming_worker_seen_seconds_ago gauge",
    ]
    return lines if age is None else [*lines, f"streaming_worker_seen_seconds_ago {age:.1f}"]
