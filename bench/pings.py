"""What viewer pages' pings cost the server (issue 24, a silent link caught).

A visible viewer page whose live feed was quiet for 1.5 s sends
{"type":"ping"} and the server answers a prepared {"type":"pong"} frame
(tracker/live/viewer_socket.py). Holds N viewer sockets on one daphne,
measures its CPU while they idle, then while every one pings at the pages'
pace (spread over the interval), and prints the difference per ping and as a
share of one core.

    python -m bench.pings [--sockets 1000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

from websockets.asyncio.client import connect

from .cluster import Cluster
from .common import cpu_seconds, raise_open_files

PING_SECONDS = 1.25  # frontend/static/frontend/live.js
PING = '{"type":"ping"}'


async def hold(url: str, origin: str, count: int, events: dict[str, asyncio.Event]) -> int:
    sockets = []
    for _ in range(count):
        socket = await connect(url, origin=origin, open_timeout=20)
        await socket.recv()  # the snapshot
        sockets.append(socket)
    events["open"].set()
    pinging, stop = events["pinging"], events["stop"]
    pongs = 0

    async def run(socket) -> None:
        nonlocal pongs
        await pinging.wait()
        await asyncio.sleep(random.uniform(0, PING_SECONDS))  # pages load at different moments
        while not stop.is_set():
            await socket.send(PING)
            await socket.recv()
            pongs += 1
            await asyncio.sleep(PING_SECONDS)

    tasks = [asyncio.create_task(run(socket)) for socket in sockets]
    await stop.wait()
    for task in tasks:
        task.cancel()
    for socket in sockets:
        await socket.close()
    return pongs


async def measure(port: int, pid: int, count: int, seconds: float) -> dict[str, float]:
    events = {name: asyncio.Event() for name in ("open", "pinging", "stop")}
    url, origin = f"ws://127.0.0.1:{port}/ws/live/", f"http://127.0.0.1:{port}"
    holder = asyncio.create_task(hold(url, origin, count, events))
    await events["open"].wait()
    await asyncio.sleep(5)  # settled
    before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    idle = (cpu_seconds(pid) - before) / (time.monotonic() - started)
    events["pinging"].set()
    await asyncio.sleep(PING_SECONDS)
    before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    busy = (cpu_seconds(pid) - before) / (time.monotonic() - started)
    events["stop"].set()
    pongs = await holder
    per_second = count / PING_SECONDS
    return {"idle": idle, "pinging": busy, "per_ping_us": (busy - idle) / per_second * 1e6, "pongs": pongs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    options = parser.parse_args()
    raise_open_files()
    with Cluster() as cluster:
        [(port, process)] = cluster.add_daphnes(1)
        result = asyncio.run(measure(port, process.pid, options.sockets, options.seconds))
    print(
        f"{options.sockets} viewer sockets on one daphne: idle {result['idle'] * 100:.1f}% of a core, "
        f"pinging every {PING_SECONDS} s {result['pinging'] * 100:.1f}% "
        f"({result['per_ping_us']:.0f} µs per ping; {result['pongs']} pongs)"
    )


if __name__ == "__main__":
    main()
