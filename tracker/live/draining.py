"""Leaving politely: on SIGTERM a web process tells its viewers and operators
to reconnect elsewhere, then lets daphne stop.

The close code is 4503 (the project's 4000 + HTTP status: "unavailable
here, try again"; the registry's 1012 "service restart" is refused by
daphne's websocket library, which sends only 1000 and 3000-4999, and drops
reasons): tracker/static/tracker/feed.js reconnects at once, each browser
after a random part of a few seconds so that a restart does not stampede
the other processes. From the signal on, the process closes new live sockets the same
way and /readyz answers 503, so load balancers and reconnects go elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any, Protocol

logger = logging.getLogger(__name__)

CLOSE_RESTARTING = 4503
REASON = "server restarting: reconnect"
# Time for the close frames to leave before daphne stops.
FLUSH_SECONDS = 0.2

_draining = False


class Hub(Protocol):
    async def close_all(self, *, code: int, reason: str) -> int: ...


def draining() -> bool:
    """Whether this process was told to stop."""
    return _draining


def install(hub: Hub) -> None:
    """Take SIGTERM over from daphne (Twisted) in the running loop; daphne's own stop follows the drain."""
    loop = asyncio.get_running_loop()
    then = signal.getsignal(signal.SIGTERM)
    loop.add_signal_handler(signal.SIGTERM, lambda: loop.create_task(drain(hub, then)))


async def drain(hub: Hub, then: Any) -> None:
    global _draining
    if _draining:
        return
    _draining = True
    told = await hub.close_all(code=CLOSE_RESTARTING, reason=REASON)
    logger.info("SIGTERM: told %d sockets to reconnect elsewhere; stopping", told)
    await asyncio.sleep(FLUSH_SECONDS)
    asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
    if callable(then):
        then(signal.SIGTERM, None)  # Twisted's handler: stops the reactor, and daphne with it
    else:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
