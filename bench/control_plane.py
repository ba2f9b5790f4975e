"""The control plane's two candidate layers side by side: `python -m bench.control_plane [--sockets N]`.

For channels-redis's RedisPubSubChannelLayer (the site's choice, project/settings.py) and its core
RedisChannelLayer: N sockets' worth of layer state in one process (each a channel of its own, a group
`encoder.<i>` and a waiting receive, as tracker.live.sockets.ControlledConsumer holds them), then

- order latency: one `group_send` to one socket's group until its receive returns, p50 / p99;
- memory per socket: Python allocations (tracemalloc) for the N sockets' layer state, divided by N;
- a Redis outage: redis-server killed for 3 s and started again, then one order to every socket:
  how many receives failed meanwhile and how many orders arrived.

Starts its own redis-server on a free loopback port; a quick run takes about 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import django

from .common import free_port, ms, percentile

ORDERS = 300
OUTAGE_SECONDS = 3.0


def layers(url: str) -> dict[str, Any]:
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from django.conf import settings

    pubsub_host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    return {
        "RedisPubSubChannelLayer": lambda: RedisPubSubChannelLayer(
            hosts=[{**pubsub_host, "address": url}], prefix="bench:layer:"
        ),
        # The core layer blocks 5 s in BZPOPMIN, redis-py 8's default read timeout: it needs none (redis-py#4091).
        "RedisChannelLayer": lambda: RedisChannelLayer(
            hosts=[{"address": url, "socket_timeout": None}], prefix="bench:core"
        ),
    }


class Socket:
    """A consumer's layer half: its channel, its group, one receive waiting at all times."""

    def __init__(self, layer: Any, index: int) -> None:
        self.layer, self.group = layer, f"encoder.bench-{index}"
        self.arrived: asyncio.Queue[float] = asyncio.Queue()
        self.failures = 0

    async def open(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.create_task(self.receive_forever())

    async def receive_forever(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # what a consumer would die of
                self.failures += 1
                await asyncio.sleep(0.5)
                continue
            self.arrived.put_nowait(time.perf_counter() - message["sent"])


async def measure(name: str, make_layer: Any, redis: Any, sockets: int) -> dict[str, Any]:
    layer = make_layer()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = [Socket(layer, index) for index in range(sockets)]
    for socket in held:
        await socket.open()
    await asyncio.sleep(0.5)
    per_socket = (tracemalloc.get_traced_memory()[0] - before) / sockets
    tracemalloc.stop()

    latencies = []
    for _ in range(ORDERS):
        socket = random.choice(held)
        await layer.group_send(socket.group, {"type": "control.close", "sent": time.perf_counter()})
        latencies.append(await asyncio.wait_for(socket.arrived.get(), timeout=10))
        await asyncio.sleep(0.005)

    redis.kill()
    await asyncio.sleep(OUTAGE_SECONDS)
    redis.start()
    await asyncio.sleep(2)  # time to reconnect
    sent = 0
    for socket in held:
        try:
            await layer.group_send(socket.group, {"type": "control.close", "sent": time.perf_counter()})
            sent += 1
        except Exception:
            pass
    await asyncio.sleep(2)
    arrived = sum(socket.arrived.qsize() for socket in held)
    for socket in held:
        socket.task.cancel()
    await asyncio.gather(*(socket.task for socket in held), return_exceptions=True)
    await layer.flush()
    return {
        "layer": name,
        "p50": ms(percentile(latencies, 50)),
        "p99": ms(percentile(latencies, 99)),
        "KB per socket": f"{per_socket / 1024:.1f}",
        "failed receives in the outage": sum(socket.failures for socket in held),
        "orders after it": f"{arrived} of {sockets} ({sent} sent)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=200)
    options = parser.parse_args()
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()
    import logging

    logging.getLogger("channels_redis").setLevel(logging.CRITICAL)  # the outage is expected here

    from testing.processes import RedisProcess

    with tempfile.TemporaryDirectory() as directory:
        redis = RedisProcess(free_port(), Path(directory))
        redis.start()
        try:
            rows = [
                asyncio.run(measure(name, make, redis, options.sockets)) for name, make in layers(redis.url).items()
            ]
        finally:
            redis.stop()
    print(f"control plane, {options.sockets} sockets, {ORDERS} orders, then a {OUTAGE_SECONDS:g} s outage")
    for row in rows:
        print("  " + "; ".join(f"{key}: {value}" for key, value in row.items()))


if __name__ == "__main__":
    main()
