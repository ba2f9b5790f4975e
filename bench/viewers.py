"""Viewer websockets, held by a load process and driven over a pipe.

Commands from the coordinator:
  ("connect", total)   open sockets until this process holds `total`
  ("arm", marker)      forget earlier deliveries, watch for `marker`
  ("collect", secs)    wait (at most secs) until every socket saw the marker;
                       answers with the arrival times and how many never did
  ("stop",)            close everything and exit
Every socket waits for its first message (the snapshot) before it counts as
connected, so a change sent afterwards must reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from .common import raise_open_files

CONNECTS_IN_FLIGHT = 32
OPEN_TIMEOUT = 20


class Viewers:
    def __init__(self, urls: list[tuple[str, str]]) -> None:
        self.urls = urls  # (ws url, origin)
        self.sockets: list = []
        self.tasks: list[asyncio.Task] = []
        self.marker: str | None = None
        self.arrivals: dict[int, float] = {}
        self.done = asyncio.Event()
        self.failed = 0
        self.closed = 0
        self.cpu_at_arm = 0.0

    async def _open(self, index: int) -> None:
        url, origin = self.urls[index % len(self.urls)]
        try:
            ws = await connect(
                url, origin=origin, compression=None, ping_interval=None, open_timeout=OPEN_TIMEOUT, max_queue=64
            )
            await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT)
        except (TimeoutError, OSError, WebSocketException):
            self.failed += 1
            return
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self._read(len(self.sockets) - 1, ws)))

    async def _read(self, index: int, ws) -> None:
        try:
            async for text in ws:
                marker = self.marker
                if marker is not None and index not in self.arrivals and marker in text:
                    self.arrivals[index] = time.monotonic()
                    if len(self.arrivals) >= len(self.sockets) - self.closed:
                        self.done.set()
        except WebSocketException:
            pass
        self.closed += 1

    async def connect_to(self, total: int) -> dict:
        start = time.monotonic()
        failed_before = self.failed
        semaphore = asyncio.Semaphore(CONNECTS_IN_FLIGHT)

        async def bounded(index: int) -> None:
            async with semaphore:
                await self._open(index)

        first = len(self.sockets) + self.failed
        await asyncio.gather(*(bounded(i) for i in range(first, first + total - len(self.sockets))))
        return {"held": len(self.sockets), "failed": self.failed - failed_before, "seconds": time.monotonic() - start}

    def arm(self, marker: str) -> None:
        self.marker = marker
        self.arrivals = {}
        self.done = asyncio.Event()
        self.cpu_at_arm = time.process_time()

    async def collect(self, timeout: float) -> dict:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.done.wait(), timeout)
        arrivals = list(self.arrivals.values())
        return {
            "arrivals": arrivals,
            "missing": len(self.sockets) - len(arrivals),
            "closed": self.closed,
            "cpu": time.process_time() - self.cpu_at_arm,
        }

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        # Abort instead of a close handshake per socket: quick, and the server
        # sees the same as when thousands of browsers go away at once.
        for ws in self.sockets:
            ws.transport.abort()
        await asyncio.sleep(0)


async def serve_commands(conn, urls: list[tuple[str, str]]) -> None:
    viewers = Viewers(urls)
    loop = asyncio.get_running_loop()
    try:
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "connect":
                conn.send(await viewers.connect_to(command[1]))
            elif command[0] == "arm":
                viewers.arm(command[1])
                conn.send("armed")
            elif command[0] == "collect":
                conn.send(await viewers.collect(command[1]))
            else:
                break
    finally:
        await asyncio.wait_for(viewers.close(), 10)


def viewer_process(conn, urls: list[tuple[str, str]]) -> None:
    raise_open_files()
    with contextlib.suppress(EOFError, asyncio.TimeoutError, KeyboardInterrupt):
        asyncio.run(serve_commands(conn, urls))
