"""A keynote's audience, held by a load process and driven over a pipe.

Like a browser on a room page, every socket sends `watch` for its room and
its playback health once it has its snapshot, then health every 30 s. Once
started, the crowd churns: every tick, `rate` of the sockets per second
leave and as many new ones join.

Commands from the coordinator:
  ("connect", total)      open sockets until this process holds `total`
  ("start", rate)         start churning and counting received messages
  ("arm", patterns)       watch for the first message containing every pattern,
                          on each socket open now
  ("collect", secs)       wait (at most secs) until every armed socket saw it;
                          answers with the arrival times, how many never did and
                          how many left meanwhile
  ("stats",)              messages received since start, socket-seconds, churn
  ("stop",)               close everything and exit
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from .common import raise_open_files

CONNECTS_IN_FLIGHT = 32
OPEN_TIMEOUT = 20
TICK_SECONDS = 0.1
HEALTH_SECONDS = 30
# Most of the audience in the keynote room, the rest in the other rooms.
KEYNOTE_ROOMS = ("keynote",) * 7 + ("example", "hall-2", "fanout")


class Crowd:
    def __init__(self, urls: list[tuple[str, str]]) -> None:
        self.urls = urls  # (ws url, origin)
        self.sockets: dict[int, ClientConnection] = {}
        self.opened = 0  # sockets ever opened (their index)
        self.failed = self.joined = self.left = 0
        self.in_flight = asyncio.Semaphore(CONNECTS_IN_FLIGHT)
        self.counting = False
        self.messages = 0
        self.socket_seconds = 0.0
        self.patterns: tuple[str, ...] = ()
        self.armed: set[int] = set()
        self.arrivals: dict[int, float] = {}
        self.gone_armed = 0
        self.done = asyncio.Event()
        self.rate = 0.0
        self.ticker: asyncio.Task | None = None
        self.tasks: set[asyncio.Task] = set()

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def target(self, index: int) -> tuple[str, str]:
        return self.urls[index % len(self.urls)]

    async def _open(self) -> None:
        index = self.opened
        self.opened += 1
        url, origin = self.target(index)
        room = KEYNOTE_ROOMS[index % len(KEYNOTE_ROOMS)]
        async with self.in_flight:
            try:
                ws = await connect(
                    url, origin=origin, compression=None, ping_interval=None, open_timeout=OPEN_TIMEOUT, max_queue=64
                )
                await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT)
                await ws.send(json.dumps({"type": "watch", "room": room, "tab": f"tab-{os.getpid()}-{index}"}))
                await ws.send(json.dumps({"type": "health", "state": "playing", "format": "hls"}))
            except (TimeoutError, OSError, WebSocketException):
                self.failed += 1
                return
        self.sockets[index] = ws
        self._spawn(self._read(index, ws))

    async def _read(self, index: int, ws: ClientConnection) -> None:
        with contextlib.suppress(WebSocketException):
            async for text in ws:
                if self.counting:
                    self.messages += 1
                if index in self.armed and index not in self.arrivals and all(p in text for p in self.patterns):
                    self.arrivals[index] = time.monotonic()
                    self._check_done()
        self._forget(index)

    def _forget(self, index: int) -> None:
        self.sockets.pop(index, None)
        if index in self.armed and index not in self.arrivals:
            self.armed.discard(index)
            self.gone_armed += 1
            self._check_done()

    def _check_done(self) -> None:
        if len(self.arrivals) >= len(self.armed):
            self.done.set()

    async def connect_to(self, total: int) -> dict:
        start, failed_before = time.monotonic(), self.failed
        await asyncio.gather(*(self._open() for _ in range(total - len(self.sockets))))
        held: dict[str, int] = {}
        for index in self.sockets:
            url = self.target(index)[0]
            held[url] = held.get(url, 0) + 1
        return {"held": held, "failed": self.failed - failed_before, "seconds": time.monotonic() - start}

    async def _tick_forever(self) -> None:
        owed, tick = 0.0, 0
        slots = round(HEALTH_SECONDS / TICK_SECONDS)
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            tick += 1
            # The time that went by, not the tick asked for: a loaded client's ticks come
            # late, and counting TICK_SECONDS each made too few socket-seconds (so too many
            # messages per viewer per second) and too little churn.
            now = time.monotonic()
            elapsed, last = now - last, now
            self.socket_seconds += len(self.sockets) * elapsed
            owed += len(self.sockets) * self.rate * elapsed
            while owed >= 1 and self.sockets:
                owed -= 1
                index = random.choice(list(self.sockets))
                ws = self.sockets[index]
                self._forget(index)
                self._spawn(ws.close())
                self.left += 1
                self.joined += 1
                self._spawn(self._open())
            # Each socket reports its health once every HEALTH_SECONDS, spread over the ticks.
            health = json.dumps({"type": "health", "state": "playing", "format": "hls"})
            for index, ws in list(self.sockets.items()):
                if index % slots == tick % slots:
                    self._spawn(ws.send(health))

    def start(self, rate: float) -> None:
        self.rate, self.counting = rate, True
        self.messages, self.socket_seconds = 0, 0.0
        self.ticker = asyncio.create_task(self._tick_forever())

    def arm(self, patterns: list[str]) -> None:
        self.patterns = tuple(patterns)
        self.armed = set(self.sockets)
        self.arrivals, self.gone_armed = {}, 0
        self.done = asyncio.Event()
        self._check_done()

    async def collect(self, timeout: float) -> dict:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.done.wait(), timeout)
        arrivals = list(self.arrivals.values())
        return {"arrivals": arrivals, "missing": len(self.armed) - len(arrivals), "left": self.gone_armed}

    def stats(self) -> dict:
        return {
            "messages": self.messages,
            "socket_seconds": self.socket_seconds,
            "joined": self.joined,
            "left": self.left,
            "failed": self.failed,
            "held": len(self.sockets),
        }

    async def close(self) -> None:
        if self.ticker is not None:
            self.ticker.cancel()
        for task in list(self.tasks):
            task.cancel()
        for ws in self.sockets.values():
            ws.transport.abort()
        await asyncio.sleep(0)


async def serve_commands(conn, urls: list[tuple[str, str]]) -> None:
    crowd = Crowd(urls)
    loop = asyncio.get_running_loop()
    try:
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "connect":
                conn.send(await crowd.connect_to(command[1]))
            elif command[0] == "start":
                crowd.start(command[1])
                conn.send("started")
            elif command[0] == "arm":
                crowd.arm(command[1])
                conn.send("armed")
            elif command[0] == "collect":
                conn.send(await crowd.collect(command[1]))
            elif command[0] == "stats":
                conn.send(crowd.stats())
            else:
                break
    finally:
        await asyncio.wait_for(crowd.close(), 10)


def crowd_process(conn, urls: list[tuple[str, str]]) -> None:
    raise_open_files()
    with contextlib.suppress(EOFError, asyncio.TimeoutError, KeyboardInterrupt):
        asyncio.run(serve_commands(conn, urls))
