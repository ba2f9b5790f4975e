"""What one /tracker/metrics scrape costs: `python -m bench.metrics_scrape [--rooms 100 --encoders 3]`.

Starts its own redis-server, configures that many rooms with that many live encoders each (heartbeats
stored the way the API stores them), then times `tracker.ops.metrics.exposition` (the Redis reads, the
figures and the text) over many scrapes: wall-clock p50 / p99 ms, and this process's CPU ms per scrape
(steadier than wall time on a shared machine; Redis's own work is in its process).
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

SCRAPES = 200


def write_config(directory: Path, rooms: int) -> None:
    """The tests' config.json (its defaults), with the rooms added in config.private.json."""
    tests = Path(__file__).resolve().parent.parent / "tracker" / "tests" / "config"
    (directory / "config.json").write_text((tests / "config.json").read_text())
    private = {"config": {"secret": "bench-secret-0123456789"}}
    private.update({f"room-{i}": {"title": f"Room {i}"} for i in range(rooms)})
    (directory / "config.private.json").write_text(json.dumps(private))


async def fill(rooms: int, encoders: int) -> None:
    from tracker.encoders import ingest, store
    from tracker.encoders.heartbeat import Heartbeat
    from tracker.encoders.state_machine import Identity

    now = time.time()
    for room in range(rooms):
        for encoder in range(encoders):
            identity = Identity(name=f"enc-{room}-{encoder}", room=f"room-{room}", role="encoder", grace=5)
            stream = {"format": "hls", "url": f"https://cdn.example/{room}/{encoder}.m3u8", "clients": 40}
            stream["bitrate"] = 2_500_000
            beat = Heartbeat(room=identity.room, encoder=identity.name, interval=3600, streams=[stream], metrics={})
            await ingest.accept(store.get_redis(), identity=identity, beat=beat, now=now)


async def measure() -> tuple[list[float], float, int]:
    from tracker.encoders import store
    from tracker.ops import metrics

    redis = store.get_redis()
    text = await metrics.exposition(redis)  # warm: scripts, connections, imports
    times = []
    cpu = time.process_time()
    for _ in range(SCRAPES):
        started = time.perf_counter()
        await metrics.exposition(redis)
        times.append(time.perf_counter() - started)
    return times, (time.process_time() - cpu) / SCRAPES, len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--encoders", type=int, default=3)
    options = parser.parse_args()
    from testing.processes import RedisProcess

    with tempfile.TemporaryDirectory() as directory:
        redis = RedisProcess(free_port(), Path(directory))
        redis.start()
        try:
            write_config(Path(directory), options.rooms)
            os.environ.update(
                DJANGO_SETTINGS_MODULE="project.settings", REDIS_URL=redis.url, ROOMS_CONFIG_DIR=directory
            )
            django.setup()

            async def run() -> tuple[list[float], float, int]:
                await fill(options.rooms, options.encoders)
                return await measure()

            times, cpu, size = asyncio.run(run())
        finally:
            redis.stop()
    p50, p99 = (percentile(times, q) * 1000 for q in (50, 99))
    print(
        f"metrics scrape, {options.rooms} rooms x {options.encoders} encoders, {SCRAPES} scrapes, {size} bytes: "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, CPU {cpu * 1000:.2f} ms per scrape"
    )


if __name__ == "__main__":
    main()
