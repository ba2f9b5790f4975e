"""What holds an idle viewer socket: `python -m bench.memory_probe [N]`.

Starts the bench site with one daphne serving bench.memory_trace
(tracemalloc on unless BENCH_TRACEMALLOC=0), dumps its memory, opens N idle
viewer sockets (default 1,000) from this process (BENCH_CHURN=0.3: then
replaces 30 % of them three times), dumps again and prints what grew per
type and per allocating traceback, and what RSS grew per socket.
BENCH_COLLECT=1 runs the collector before counting; BENCH_HOLDERS=1 adds
what refers to a closed socket's protocol still in memory. Diagnostic
only: tracing makes daphne slow and its own bookkeeping inflates RSS.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

from websockets.asyncio.client import connect

from .cluster import Cluster
from .common import raise_open_files, rss_bytes
from .fanout import _touch, ws_target


async def _open(url: str, origin: str):
    ws = await connect(url, origin=origin, compression=None, ping_interval=None, open_timeout=20)
    await asyncio.wait_for(ws.recv(), 20)
    return ws


async def _hold(url: str, origin: str, n: int, ready: asyncio.Event, done: asyncio.Event) -> None:
    sockets = [await _open(url, origin) for _ in range(n)]
    # BENCH_CHURN=0.3: then three times replace that share of the sockets by new ones.
    replaced = int(n * float(os.environ.get("BENCH_CHURN", "0")))
    for _ in range(3 if replaced else 0):
        gone, sockets = sockets[:replaced], sockets[replaced:]
        await asyncio.gather(*(ws.close() for ws in gone), return_exceptions=True)
        sockets += [await _open(url, origin) for _ in range(replaced)]
    ready.set()
    await done.wait()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


TRACING = "on" if os.environ.get("BENCH_TRACEMALLOC", "1") == "1" else "off"


def _dump(pid: int, out: str) -> str:
    if os.path.exists(out):
        os.unlink(out)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not os.path.exists(out) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # the file is written in one go; give it the time to close
    with open(out) as f:
        text = f.read()
    if os.path.exists(out + ".types"):
        with open(out + ".types") as f:
            text += "\nlive objects grown, by type (shallow sizes):\n" + f.read()
    return text


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    raise_open_files()
    with Cluster(asgi_app="bench.memory_trace:application", keep_logs=bool(os.environ.get("BENCH_KEEP"))) as cluster:
        out = str(cluster.tmp / "memory.txt")
        cluster.env["BENCH_MEMORY_OUT"] = out
        [(port, process)] = cluster.add_daphnes(1)
        url, origin = ws_target(port)
        asyncio.run(_touch([(url, origin)]))
        time.sleep(1)
        _dump(process.pid, out)
        rss0 = rss_bytes(process.pid)

        async def run() -> str:
            ready, done = asyncio.Event(), asyncio.Event()
            holder = asyncio.create_task(_hold(url, origin, n, ready, done))
            await ready.wait()
            await asyncio.sleep(2)
            rss = rss_bytes(process.pid)
            text = await asyncio.to_thread(_dump, process.pid, out)
            if os.environ.get("BENCH_HOLDERS"):
                os.kill(process.pid, signal.SIGUSR2)
                await asyncio.sleep(15)
                with open(out + ".holders") as f:
                    text += "\nholders:\n" + f.read()
            done.set()
            await holder
            return f"RSS grew {(rss - rss0) / n / 1024:.1f} KB per socket (tracemalloc {TRACING})\n" + text

        text = asyncio.run(run())
        head, _, grown = text.partition("grown since the previous dump")
        print(head.splitlines()[0])
        print("grown since the previous dump" + grown)


if __name__ == "__main__":
    main()
