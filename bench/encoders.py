"""Encoders heartbeating at their interval in a load process, driven over a pipe.

Each encoder POSTs its heartbeat every `interval` seconds over its own
kept-alive connection, the encoders spread evenly over the interval.

Commands from the coordinator:
  ("change", encoder, url)  from now on report this stream URL (None: no
                            stream, so its room goes offline); the heartbeat
                            goes out at once; answers the moment before it
  ("stop",)                 answers how many heartbeats were sent and refused
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from .httpclient import HttpConnection, heartbeat_headers


def body(room: str, encoder: str, interval: int, url: str | None) -> bytes:
    stream = {"format": "hls", "quality": "hd", "url": url, "clients": 1, "bitrate": 2_500_000}
    streams = [] if url is None else [stream]
    return json.dumps({"room": room, "encoder": encoder, "interval": interval, "streams": streams}).encode()


class Encoder:
    def __init__(self, room: str, name: str, token: str, port: int, interval: int) -> None:
        self.room, self.name, self.interval = room, name, interval
        self.headers = heartbeat_headers(token)
        self.conn = HttpConnection("127.0.0.1", port)
        self.url: str | None = f"https://cdn.example/{room}/{name}.m3u8"
        self.lock = asyncio.Lock()
        self.sent = self.refused = 0

    async def beat(self) -> None:
        async with self.lock:
            try:
                status, _ = await self.conn.request(
                    "POST",
                    "/tracker/api/heartbeat",
                    body=body(self.room, self.name, self.interval, self.url),
                    headers=self.headers,
                )
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                status = 0
                await self.conn.close()
            self.sent += 1
            self.refused += status != 200

    async def run(self, delay: float) -> None:
        await asyncio.sleep(delay)
        while True:
            started = time.monotonic()
            await self.beat()
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))


async def serve_commands(conn, encoders: list[dict], interval: int) -> None:
    fleet = {e["name"]: Encoder(e["room"], e["name"], e["token"], e["port"], interval) for e in encoders}
    tasks = [asyncio.create_task(e.run(i * interval / len(fleet))) for i, e in enumerate(fleet.values())]
    loop = asyncio.get_running_loop()
    try:
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "change":
                encoder = fleet[command[1]]
                encoder.url = command[2]
                t0 = time.monotonic()
                await encoder.beat()
                conn.send(t0)
            else:
                encoders = fleet.values()
                conn.send({"sent": sum(e.sent for e in encoders), "refused": sum(e.refused for e in encoders)})
                break
    finally:
        for task in tasks:
            task.cancel()
        for encoder in fleet.values():
            with contextlib.suppress(OSError):
                await encoder.conn.close()


def encoders_process(conn, encoders: list[dict], interval: int) -> None:
    with contextlib.suppress(EOFError, KeyboardInterrupt):
        asyncio.run(serve_commands(conn, encoders, interval))
