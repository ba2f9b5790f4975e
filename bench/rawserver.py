"""The limit to compare against: a bare `websockets` server that forwards each
message of the live Redis channel to every socket with `broadcast()`.

Same trigger and the same Redis pub/sub hop as the site, none of the ASGI,
Channels or per-socket work. Run: python -m bench.rawserver PORT REDIS_URL CHANNEL
"""

from __future__ import annotations

import asyncio
import signal
import sys

import redis.asyncio as aioredis
from websockets.asyncio.server import broadcast, serve

from .common import raise_open_files

SNAPSHOT = '{"type":"snapshot","version":0,"rooms":[]}'


async def main(port: int, redis_url: str, channel: str) -> None:
    clients: set = set()

    async def handler(ws) -> None:
        clients.add(ws)
        try:
            await ws.send(SNAPSHOT)
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def relay() -> None:
        client = aioredis.Redis.from_url(redis_url, socket_timeout=None)
        async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(channel)
            while True:
                message = await pubsub.get_message(timeout=15)
                if message is not None:
                    broadcast(clients, message["data"].decode())

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=1024):
        relay_task = asyncio.create_task(relay())
        await stop
        relay_task.cancel()


if __name__ == "__main__":
    raise_open_files()
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
