"""What the site knows about its own machinery: is a worker alive, does Redis persist.

The worker stamps a liveness key every few seconds; web processes read it
for /readyz, the metrics and the dashboard's banner. Neither a dead worker
nor a Redis without persistence makes a web process unready (taking every
process out of the load balancer would help nobody): they are warnings.
"""

from __future__ import annotations

import json
import os
import socket

from redis.asyncio import Redis

from . import store

# The worker stamps its key this often...
WORKER_STAMP_SECONDS = 2
# ...and is reported missing once its stamp is older than this.
WORKER_STALE_SECONDS = 10


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def stamp_worker(redis: Redis, *, now: float, name: str) -> None:
    """Say that a worker (any of them) was alive at `now`."""
    await redis.set(store.key("worker"), json.dumps({"at": now, "by": name}))


async def worker_age(redis: Redis, *, now: float) -> float | None:
    """Seconds since a worker last stamped its key, or None if none ever did."""
    text = await redis.get(store.key("worker"))
    return max(0.0, now - json.loads(text)["at"]) if text else None


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
