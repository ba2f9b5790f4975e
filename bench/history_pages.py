"""What one history page costs with a full day kept: `python -m bench.history_pages [--transitions 200]`.

Starts its own redis-server, writes a day of the chart's series (8640 points of 10 s, for the room
and for one encoder) and that many transitions spread over the day among four encoders, then times
building the room's and one encoder's page (`tracker.ops.room_history`: the Redis reads, the
timelines, the chart's buckets and the words), and how long Redis was busy with each call of the
bucket script (its slowlog: what a heartbeat could have waited behind).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import django

from .common import free_port, percentile
from .metrics_scrape import write_config

PAGES = 10
STEPS = 8640


async def fill(transitions: int, now: float) -> None:
    from tracker.encoders import store

    redis = store.get_redis()
    start = now - 86400
    states = ["up", "late", "down"]
    async with redis.pipeline(transaction=False) as pipe:
        for step in range(STEPS):
            point = {"c": 100 + step % 50, "b": 2_500_000, "o": 250_000_000}
            for stream in (store.key("hist", "room", "room-0"), store.key("hist", "enc", "room-0/cam-0")):
                pipe.xadd(stream, point, id=f"{int((start + step * 10) * 1000)}-0")
        for number in range(transitions):
            at = start + number * 86400 / transitions
            old, new = states[number % 3], states[(number + 1) % 3]
            entry = {"room": "room-0", "name": f"cam-{number % 4}", "old": old, "new": new, "reason": "x", "at": at}
            pipe.xadd(store.key("log", "room-0"), {"transition": json.dumps(entry)}, id=f"{int(at * 1000)}-{number}")
        await pipe.execute()


async def measure(now: float) -> dict[str, list[float]]:
    from tracker.config import get_config
    from tracker.encoders import store
    from tracker.ops import room_history

    redis = store.get_redis()
    room = get_config().rooms["room-0"]
    times: dict[str, list[float]] = {"room": [], "encoder": []}
    for _ in range(PAGES):
        for kind, encoder in (("room", None), ("encoder", "cam-0")):
            started = time.perf_counter()
            room_history.page(await room_history.read(redis, room, encoder, now=now, series="buckets"))
            times[kind].append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=200)
    options = parser.parse_args()
    from testing.processes import RedisProcess

    with tempfile.TemporaryDirectory() as directory:
        redis = RedisProcess(free_port(), Path(directory))
        redis.start()
        try:
            write_config(Path(directory), 1)
            os.environ.update(
                DJANGO_SETTINGS_MODULE="project.settings", REDIS_URL=redis.url, ROOMS_CONFIG_DIR=directory
            )
            django.setup()
            import redis as redis_py

            now = time.time()
            asyncio.run(fill(options.transitions, now))
            with redis_py.Redis.from_url(redis.url) as direct:
                direct.config_set("slowlog-log-slower-than", 0)
                direct.config_set("slowlog-max-len", 10_000)
                direct.slowlog_reset()
                times = asyncio.run(measure(now))
                scripts = [e["duration"] for e in direct.slowlog_get(10_000) if e["command"].startswith(b"EVALSHA")]
        finally:
            redis.stop()
    for kind, values in times.items():
        p50, worst = percentile(values, 50) * 1000, max(values) * 1000
        print(
            f"history {kind} page, a day kept, {options.transitions} transitions: p50 {p50:.0f} ms, max {worst:.0f} ms"
        )
    p50, worst = percentile(scripts, 50) / 1000, max(scripts) / 1000
    print(f"Redis busy per call of history_buckets.lua (1 h of points): p50 {p50:.1f} ms, max {worst:.1f} ms")


if __name__ == "__main__":
    main()
