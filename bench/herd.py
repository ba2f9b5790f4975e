"""The keynote's first minute: `python -m bench.herd --viewers 2000 --seconds 6`.

Viewers arrive as a herd, evenly spread over `--seconds`, each as a browser
opening the room page does: GET /example, then each static file the page
links (one kept-alive connection, in order), then the live socket, until its
first message (the room's state) arrives. Reported: errors, and p50 / p99 /
max from the page's first byte requested to the first state received, with
the daphne(s)' CPU over the herd. Sockets stay open until the end, so late
arrivals meet a process already holding the early ones. Static files come
from daphne here (in production nginx serves them), so the figures carry
work production does not do.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

from .cluster import Cluster
from .common import cpu_seconds, percentile, raise_open_files
from .fanout import _touch, ws_target
from .httpclient import HttpConnection
from .profiler import sampled

LOAD_PROCESSES = 2
STATIC = re.compile(rb'(?:src|href)="(/static/[^"]+)"')
OPEN_TIMEOUT = 30


async def arrive(port: int, ws_url: str, origin: str, start_at: float, static: bool) -> tuple[float, str]:
    """One viewer: seconds from the page's request to its first state, or an error."""
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    t0 = time.monotonic()
    conn = HttpConnection("127.0.0.1", port)
    try:
        status, page = await conn.request("GET", "/example", timeout=OPEN_TIMEOUT)
        if status != 200:
            return 0.0, f"page {status}"
        for path in dict.fromkeys(STATIC.findall(page)) if static else ():
            status, _ = await conn.request("GET", path.decode(), timeout=OPEN_TIMEOUT)
            if status != 200:
                return 0.0, f"static {status}"
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return 0.0, type(exc).__name__
    finally:
        await conn.close()
    try:
        ws = await connect(ws_url, origin=origin, compression=None, ping_interval=None, open_timeout=OPEN_TIMEOUT)
        await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT)
    except Exception as exc:  # any failure to get the first state counts as an error
        return 0.0, type(exc).__name__
    HELD.append(ws)
    return time.monotonic() - t0, ""


HELD: list = []


async def herd(conn, ports: list[int], starts: list[float], hold: float, static: bool) -> None:
    results = await asyncio.gather(
        *(arrive(ports[i % len(ports)], *ws_target(ports[i % len(ports)]), at, static) for i, at in enumerate(starts))
    )
    conn.send({"times": [t for t, error in results if not error], "errors": [e for _, e in results if e]})
    await asyncio.sleep(max(0.0, hold - time.monotonic()))  # the sockets stay while the other process's arrive
    for ws in HELD:
        ws.transport.abort()


def load_process(conn, ports: list[int], starts: list[float], hold: float, static: bool) -> None:
    raise_open_files()
    asyncio.run(herd(conn, ports, starts, hold, static))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.herd", description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=6.0, help="arrivals spread evenly over this window")
    parser.add_argument("--daphnes", type=int, default=1)
    parser.add_argument(
        "--no-static", action="store_true", help="leave the static files out (production's nginx serves them)"
    )
    parser.add_argument("--profile", type=Path, metavar="DIR", help="sample the first daphne with py-spy")
    args = parser.parse_args(argv)
    raise_open_files()
    ctx = multiprocessing.get_context("spawn")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with Cluster() as cluster:
        daphnes = cluster.add_daphnes(args.daphnes)
        ports = [port for port, _ in daphnes]
        asyncio.run(_touch([ws_target(port) for port in ports]))
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/example", timeout=10) as page:
            statics = len(dict.fromkeys(STATIC.findall(page.read())))
        statics = 0 if args.no_static else statics
        print(f"each arrival: the page, {statics} static files, the socket and its first state", flush=True)
        begin = time.monotonic() + 3.0  # the load processes start meanwhile
        step = args.seconds / args.viewers
        starts = [begin + i * step for i in range(args.viewers)]
        hold = begin + args.seconds + OPEN_TIMEOUT + 5
        pipes, processes = [], []
        for n in range(LOAD_PROCESSES):
            parent, child = ctx.Pipe()
            process = ctx.Process(
                target=load_process, args=(child, ports, starts[n::LOAD_PROCESSES], hold, not args.no_static)
            )
            process.start()
            pipes.append(parent)
            processes.append(process)
        time.sleep(max(0.0, begin - time.monotonic()))
        with sampled(daphnes[0][1].pid, args.profile, "herd", log=print):
            cpu0 = sum(cpu_seconds(p.pid) for _, p in daphnes)
            results = [pipe.recv() for pipe in pipes]
            busy = time.monotonic() - begin
            cpu = sum(cpu_seconds(p.pid) for _, p in daphnes) - cpu0
        for process in processes:
            process.join(hold - time.monotonic() + 10)
    times = [t for r in results for t in r["times"]]
    errors = [e for r in results for e in r["errors"]]
    kinds = {e: errors.count(e) for e in set(errors)}
    print(
        f"herd: {args.viewers:,} viewers over {args.seconds:g} s on {args.daphnes} daphne(s): "
        f"{len(times):,} got their first state, {len(errors)} errors {kinds or ''}; "
        f"first byte to first state p50 {percentile(times, 50):.3f} s, p99 {percentile(times, 99):.3f} s, "
        f"max {max(times, default=float('nan')):.3f} s; daphne CPU {cpu:.1f} s in the {busy:.1f} s until the last "
        f"first state ({1000 * cpu / max(len(times), 1):.1f} ms per arrival); "
        f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
