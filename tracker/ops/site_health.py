"""What the site knows about its own machinery: is a worker alive, are web
processes taking heartbeats, does Redis persist.

The worker stamps a liveness key every few seconds; web processes read it
for /readyz, the metrics and the dashboard's banner. Neither a dead worker
nor a Redis without persistence makes a web process unready (taking every
process out of the load balancer would help nobody): they are warnings.

Each web process serving the tracker stamps an intake key every second
(expiring after INTAKE_STALE_SECONDS, by Redis's clock, so the machines'
clocks need not agree). While no process stamps it, nobody can take a
heartbeat, so the worker judges no encoder: every web process down is an
outage of ours, not of the encoders.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tracker.encoders import store

# The worker stamps its key this often...
WORKER_STAMP_SECONDS = 2
# ...and is reported missing once its stamp is older than this.
WORKER_STALE_SECONDS = 10
# Web processes stamp the intake key this often; it expires after the other.
INTAKE_STAMP_SECONDS = 1
INTAKE_STALE_SECONDS = 3

logger = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def stamp_worker(redis: Redis, *, now: float, name: str) -> None:
    """Say that a worker (any of them) was alive at `now`."""
    await redis.set(store.key("worker"), json.dumps({"at": now, "by": name}))


async def worker_age(redis: Redis, *, now: float) -> float | None:
    """Seconds since a worker last stamped its key, or None if none ever did."""
    text = await redis.get(store.key("worker"))
    return max(0.0, now - json.loads(text)["at"]) if text else None


async def stamp_intake(redis: Redis, *, name: str) -> None:
    """Say that a web process (any of them) takes heartbeats for the next INTAKE_STALE_SECONDS."""
    await redis.set(store.key("intake"), name, px=INTAKE_STALE_SECONDS * 1000)


async def intake_alive(redis: Redis) -> bool:
    """Whether a web process stamped the intake key in the last INTAKE_STALE_SECONDS."""
    return bool(await redis.exists(store.key("intake")))


async def stamp_intake_forever() -> None:
    redis, name = store.connect(), worker_name()
    while True:
        with contextlib.suppress(RedisError):  # Redis away: the sweeper notices that itself
            await stamp_intake(redis, name=name)
        await asyncio.sleep(INTAKE_STAMP_SECONDS)


class StampsIntake:
    """ASGI wrapper of a web process that takes heartbeats: from its first
    connection on (daphne has no start-up hook; /readyz probes, heartbeats
    and viewers all come in), it stamps the intake key every second."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.stamping: asyncio.Task[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.stamping is None:
            self.stamping = asyncio.create_task(stamp_intake_forever(), name="intake-stamp")
        await self.application(scope, receive, send)


async def persistence(redis: Redis) -> str:
    """How Redis keeps the state over a restart: "aof" (every write appended
    to disk), "off" (a restart loses it) or "failing" (it cannot write)."""
    info = await redis.info("persistence")
    if not info.get("aof_enabled"):
        return "off"
    return "aof" if info.get("aof_last_write_status", "ok") == "ok" else "failing"


async def warnings(redis: Redis, *, now: float) -> dict[str, str]:
    """What operators must hear about, worded for them; {} when all is well."""
    found = {}
    age = await worker_age(redis, now=now)
    if age is None:
        found["worker"] = "no worker has run: encoders are never marked late or down"
    elif age > WORKER_STALE_SECONDS:
        found["worker"] = f"no worker for {age:.0f} s: encoders are not marked late or down"
    state = await persistence(redis)
    if state == "off":
        found["persistence"] = "Redis does not persist: a restart loses every encoder's state"
    elif state == "failing":
        found["persistence"] = "Redis cannot write its append-only file"
    return found
