"""Diagnostic ASGI app for `python -m bench --asgi bench.memory_trace:application`.

The site's own application, with tracemalloc tracing every allocation from
start-up (8 frames deep). On SIGUSR1 daphne writes the live memory grouped
by the allocating line, biggest first, and what grew since the previous
SIGUSR1, to $BENCH_MEMORY_OUT (default memory.txt in the working
directory): signal once before the viewers connect and once after, and the
growth divided by the sockets is what holds a viewer socket's bytes
(`python -m bench.memory_probe` does exactly that). Tracing slows
everything down; read its bytes, never its timings.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import tracemalloc

from project.asgi import application

__all__ = ["application"]

if os.environ.get("BENCH_TRACEMALLOC", "1") == "1":
    tracemalloc.start(8)
_previous: list[tracemalloc.Snapshot] = []
_census: list[dict[str, tuple[int, int]]] = []


def _dump_traces(out: str) -> None:
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    stats = snapshot.statistics("lineno")
    total = sum(stat.size for stat in stats)
    lines = [f"total traced: {total / 1024:.0f} KB in {sum(s.count for s in stats)} blocks"]
    lines += [f"{stat.size / 1024:10.1f} KB {stat.count:8d} blocks  {stat.traceback[0]}" for stat in stats[:60]]
    if _previous:
        grown = [d for d in snapshot.compare_to(_previous[-1], "traceback") if d.size_diff > 0]
        lines.append(f"\ngrown since the previous dump: {sum(d.size_diff for d in grown) / 1024:.0f} KB")
        for diff in grown[:50]:
            lines.append(f"{diff.size_diff / 1024:10.1f} KB {diff.count_diff:8d} blocks")
            lines += [f"        {frame}" for frame in diff.traceback]
    _previous[:] = [snapshot]
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def census() -> dict[str, tuple[int, int]]:
    """Live objects the collector tracks, by type: (count, shallow bytes)."""
    counts: dict[str, list[int]] = {}
    if os.environ.get("BENCH_COLLECT") == "1":
        gc.collect()  # count only what is reachable (closed sockets' cycles go)
    for obj in gc.get_objects():
        kind = type(obj)
        entry = counts.setdefault(f"{kind.__module__}.{kind.__qualname__}", [0, 0])
        entry[0] += 1
        entry[1] += sys.getsizeof(obj)
        if hasattr(obj, "__dict__") and not isinstance(obj, type):
            entry[1] += sys.getsizeof(obj.__dict__)
    return {name: (n, size) for name, (n, size) in counts.items()}


def dump(signum, frame) -> None:
    out = os.environ.get("BENCH_MEMORY_OUT", "memory.txt")
    now = census()
    if _census:
        before = _census[-1]
        grown = sorted(
            (
                (size - before.get(name, (0, 0))[1], n - before.get(name, (0, 0))[0], name)
                for name, (n, size) in now.items()
            ),
            reverse=True,
        )
        with open(out + ".types", "w") as f:
            f.write("\n".join(f"{size / 1024:10.1f} KB {n:8d} objects  {name}" for size, n, name in grown[:60]) + "\n")
    _census[:] = [now]
    if tracemalloc.is_tracing():
        _dump_traces(out)
    else:
        with open(out, "w") as f:
            f.write("tracemalloc off (BENCH_TRACEMALLOC=0)\ngrown since the previous dump: see the types\n")


signal.signal(signal.SIGUSR1, dump)


def _holders(signum, frame) -> None:
    """SIGUSR2: what refers to one closed, uncollected websocket protocol, two levels up."""
    out = os.environ.get("BENCH_MEMORY_OUT", "memory.txt") + ".holders"
    closed = [o for o in gc.get_objects() if type(o).__name__ == "WebSocketProtocol" and o.state == o.STATE_CLOSED]
    lines = [f"{len(closed)} closed protocols alive"]
    if closed:
        target = closed[len(closed) // 2]
        for ref in gc.get_referrers(target):
            if ref is closed:
                continue
            lines.append(f"  <- {type(ref).__module__}.{type(ref).__qualname__} {repr(ref)[:300]}")
            for ref2 in gc.get_referrers(ref)[:6]:
                if ref2 is not closed:
                    lines.append(f"       <- {type(ref2).__module__}.{type(ref2).__qualname__} {repr(ref2)[:300]}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


signal.signal(signal.SIGUSR2, _holders)
