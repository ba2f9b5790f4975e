"""Viewer websockets, held by a load process and driven over a pipe.

Commands from the coordinator:
  ("connect", total)   open sockets until this process holds `total`
  ("arm", marker)      forget earlier deliveries, watch for `marker`
  ("collect", secs)    wait (at most secs) until every socket saw the marker;
                       answers with the arrival times and how many never did
  ("rejoin", ping)     from now on a socket that closes opens again as a room
                       page's does (tracker/static/tracker/feed.js: the same
                       back-off); with ping = (quiet, silent) each socket also
                       pings after `quiet` seconds without a message and
                       drops and reopens the link at once when a ping goes
                       unanswered `silent` seconds, as a visible page does
  ("rejoins",)         answers (closed at, first state again at or None) of each
                       socket lost since "rejoin", and the attempts that failed
  ("stop",)            close everything and exit
Every socket waits for its first message (the snapshot) before it counts as
connected, so a change sent afterwards must reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from .common import raise_open_files

CONNECTS_IN_FLIGHT = 32
OPEN_TIMEOUT = 20
# feed.js: after a close, wait 500 ms x (0.5 to 1.5), doubling per failed attempt up to 30 s;
# after a 4503 (the process is stopping, others serve on) at once, spread over 3 s.
FIRST_DELAY = 0.5
LONGEST_DELAY = 30.0
RESTART_SPREAD = 3.0
PING_CHECK = 0.25  # feed.js's PING_CHECK_MS
PING = '{"type":"ping"}'
REJOIN_SECONDS = 120  # a socket stops trying after this long


def rejoin_delay(attempt: int, code: int | None) -> float:
    if code == 4503 and attempt == 0:
        return RESTART_SPREAD * random.random()
    return min(LONGEST_DELAY, FIRST_DELAY * 2**attempt) * (0.5 + random.random())


class Viewers:
    def __init__(self, urls: list[tuple[str, str]]) -> None:
        self.urls = urls  # (ws url, origin)
        self.sockets: list = []
        self.tasks: set[asyncio.Task] = set()
        self.marker: str | None = None
        self.arrivals: dict[int, float] = {}
        self.done = asyncio.Event()
        self.failed = 0
        self.closed = 0
        self.cpu_at_arm = 0.0
        self.rejoining = False
        self.ping: tuple[float, float] | None = None
        self.heard: dict[int, float] = {}  # socket -> when it last heard anything (with pings on)
        self.pinged: dict[int, float] = {}  # socket -> when it last pinged
        self.restarting: set[int] = set()  # sockets dropped for an unanswered ping
        self.down: dict[int, float] = {}  # socket -> when it first closed after "rejoin"
        self.back: dict[int, float] = {}  # socket -> when it first had a state again after that
        self.rejoin_failed = 0

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

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
        self._spawn(self._read(len(self.sockets) - 1, ws))

    async def _read(self, index: int, ws) -> None:
        try:
            async for text in ws:
                if self.ping is not None:
                    self.heard[index] = time.monotonic()
                marker = self.marker
                if marker is not None and index not in self.arrivals and marker in text:
                    self.arrivals[index] = time.monotonic()
                    if len(self.arrivals) >= len(self.sockets) - self.closed:
                        self.done.set()
        except WebSocketException:
            pass
        self.closed += 1
        if self.rejoining:
            self.down.setdefault(index, time.monotonic())
            restart = index in self.restarting
            self.restarting.discard(index)
            self._spawn(self._rejoin(index, None if restart else ws.close_code))

    async def _rejoin(self, index: int, code: int | None) -> None:
        """Open socket `index` again through the same URL, as feed.js does; code None: at once."""
        url, origin = self.urls[index % len(self.urls)]
        delay = 0.0 if code is None else rejoin_delay(0, code)
        deadline = time.monotonic() + REJOIN_SECONDS
        for attempt in range(1, 1000):
            await asyncio.sleep(delay)
            try:
                ws = await connect(
                    url, origin=origin, compression=None, ping_interval=None, open_timeout=OPEN_TIMEOUT, max_queue=64
                )
                await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT)
            except (TimeoutError, OSError, WebSocketException):
                self.rejoin_failed += 1
                if time.monotonic() > deadline:
                    return
                delay = rejoin_delay(attempt, None)
                continue
            now = time.monotonic()
            self.back.setdefault(index, now)
            self.heard[index] = now
            self.sockets[index] = ws
            self.closed -= 1
            self._spawn(self._read(index, ws))
            return

    def rejoin(self, ping: tuple[float, float] | None) -> None:
        self.rejoining, self.ping = True, ping
        self.down, self.back, self.rejoin_failed = {}, {}, 0
        if ping is not None:
            # Spread over the interval, as pages that connected at different times are.
            now = time.monotonic()
            self.heard = {index: now - random.random() * ping[0] for index in range(len(self.sockets))}
            self._spawn(self._ping_forever(*ping))

    async def _ping_forever(self, quiet: float, silent: float) -> None:
        """feed.js's checkLink for every socket: ping a quiet feed, drop a link whose ping went unanswered."""
        while True:
            await asyncio.sleep(PING_CHECK)
            now = time.monotonic()
            for index, ws in enumerate(self.sockets):
                if index in self.restarting or ws.close_code is not None:
                    continue
                heard, pinged = self.heard.get(index, now), self.pinged.get(index, 0.0)
                if pinged and heard < pinged:
                    if now - pinged > silent:
                        self.restarting.add(index)
                        ws.transport.abort()
                elif now - max(heard, pinged) >= quiet:
                    self.pinged[index] = now
                    self._spawn(ws.send(PING))

    def rejoins(self) -> dict:
        return {
            "lost": [(at, self.back.get(index)) for index, at in self.down.items()],
            "failed": self.rejoin_failed,
            "held": len(self.sockets) - self.closed,
        }

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
        for task in list(self.tasks):
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
            elif command[0] == "rejoin":
                viewers.rejoin(command[1])
                conn.send("rejoining")
            elif command[0] == "rejoins":
                conn.send(viewers.rejoins())
            else:
                break
    finally:
        await asyncio.wait_for(viewers.close(), 10)


def viewer_process(conn, urls: list[tuple[str, str]]) -> None:
    raise_open_files()
    with contextlib.suppress(EOFError, asyncio.TimeoutError, KeyboardInterrupt):
        asyncio.run(serve_commands(conn, urls))
