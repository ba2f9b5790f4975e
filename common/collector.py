"""Python's full garbage collections, kept from walking the same live sockets again and again.

A web process holds about a hundred objects the collector tracks per
viewer socket. Each full (generation 2) collection walks all of them, and a
keynote's churn brings one every 20-30 s: 180-400 ms each at 5,000 sockets
on this project's 2-core test machine (bench/pause_probe.py during the
keynote scenario), stopping every socket and request of the process while
it runs. Each of them freed nothing: a socket that leaves is freed by
reference counting, not by the collector.

So after a full collection that freed almost nothing, its survivors are
frozen (`gc.freeze`): later collections walk only what came after them, and
the frozen objects are still freed by reference counting when they go. A
reference cycle among frozen objects would stay, though, so every
`REWALK_SECONDS` the survivors are unfrozen instead, and the next full
collection walks everything once and frees such cycles.
"""

from __future__ import annotations

import gc
import time
from typing import Any

# A full collection that freed at most this many objects found the survivors worth freezing.
FREED_AT_MOST = 100
REWALK_SECONDS = 600.0


class Collector:
    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.walked_all_at = clock()

    def after(self, phase: str, info: dict[str, int]) -> None:
        """A `gc.callbacks` entry: runs as each collection starts and stops."""
        if phase != "stop" or info["generation"] != 2:
            return
        # Due whatever this collection freed: frozen objects must not stay unwalked for good.
        if self.clock() - self.walked_all_at >= REWALK_SECONDS:
            gc.unfreeze()  # the next full collection walks everything once
            self.walked_all_at = self.clock()
        elif info["collected"] <= FREED_AT_MOST:
            gc.freeze()


def freeze_quiet_survivors() -> Collector:
    """Install the policy in this process (once, at start-up); returns it."""
    collector = Collector()
    gc.callbacks.append(collector.after)
    return collector
