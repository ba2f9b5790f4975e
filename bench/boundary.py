"""A talk boundary in several rooms at one moment, as the worker's now/next timer makes it.

Run by the keynote scenario as `python -m bench.boundary AT ROOM...` with the
cluster's environment: sets up Django, waits until the system-wide monotonic
clock reads AT, then stores each room's new now/next the way
tracker.programme.sync does (one versioned room message per room).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time


async def boundary(at: float, rooms: list[str]) -> None:
    from tracker.encoders import store

    redis = store.connect()
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    for room in rooms:
        talk = {"title": f"After the break in {room}", "speakers": ["Ada"], "start": "", "end": "", "url": ""}
        await store.set_room_attr(redis, room, "nownext", {"now": talk, "next": None})
    await redis.aclose()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    asyncio.run(boundary(float(sys.argv[1]), sys.argv[2:]))
