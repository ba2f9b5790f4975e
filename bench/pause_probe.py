"""Diagnostic ASGI app for `python -m bench --asgi bench.pause_probe:application --keep-logs`.

The site's own application, logging to daphne's log what stops its event
loop: each garbage collection over 2 ms (generation, objects it found,
duration), and each time a 10 ms timer fires more than 10 ms late, with the
CPU the process spent meanwhile. A late timer whose CPU is near its delay was
work on this loop (GC, a periodic job); one with little CPU was the machine
not running the process (other load on the cores). Read the lines marked
`pause-probe` next to the slow answers of a one-connection run.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from typing import Any

from project.asgi import application as site

TICK = 0.010
_gc_started: dict[str, float] = {}
_watching = False


def _log(text: str) -> None:
    print(f"pause-probe {time.monotonic():.3f} {text}", file=sys.stderr, flush=True)


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started["t"] = time.perf_counter()
        return
    took = time.perf_counter() - _gc_started.get("t", time.perf_counter())
    if took > 0.002:
        _log(f"gc generation {info['generation']} took {took * 1000:.1f} ms, collected {info['collected']}")


async def _watch_loop() -> None:
    while True:
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.sleep(TICK)
        late = time.perf_counter() - wall - TICK
        if late > 0.010:
            _log(f"loop late {late * 1000:.1f} ms, process CPU meanwhile {(time.process_time() - cpu) * 1000:.1f} ms")


gc.callbacks.append(_on_gc)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _watching
    if not _watching:
        _watching = True
        asyncio.get_running_loop().create_task(_watch_loop())
    await site(scope, receive, send)
