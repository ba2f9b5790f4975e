"""Diagnostic ASGI app for `python -m bench --asgi bench.whatif_memory:application`.

The site's own application, with tracemalloc tracing every allocation from
start-up (5 frames deep). On SIGUSR1 daphne writes the live memory grouped
by the allocating line, biggest first, to $BENCH_MEMORY_OUT (default
memory.txt in the working directory): what holds a viewer socket's bytes.
Tracing slows everything down; read its bytes, never its timings.
"""

from __future__ import annotations

import os
import signal
import tracemalloc

from project.asgi import application

__all__ = ["application"]

tracemalloc.start(5)


def dump(signum, frame) -> None:
    snapshot = tracemalloc.take_snapshot()
    stats = snapshot.statistics("lineno")
    total = sum(stat.size for stat in stats)
    lines = [f"total traced: {total / 1024:.0f} KB in {sum(s.count for s in stats)} blocks"]
    lines += [f"{stat.size / 1024:10.1f} KB {stat.count:8d} blocks  {stat.traceback[0]}" for stat in stats[:60]]
    lines.append("\nby traceback (innermost last):")
    for stat in snapshot.statistics("traceback")[:40]:
        lines.append(f"{stat.size / 1024:10.1f} KB {stat.count:8d} blocks")
        lines += [f"        {frame}" for frame in stat.traceback]
    with open(os.environ.get("BENCH_MEMORY_OUT", "memory.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


signal.signal(signal.SIGUSR1, dump)
