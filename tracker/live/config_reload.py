"""Rooms change without a restart.

`kill -HUP <pid>` makes one process read config.json and config.private.json
again; `manage.py reload_config` checks the files, then orders every web
process and worker to do so over the control channel. A bad edit is refused
with the same one-line error `check_config` gives, and the process keeps
running the config it had.

What a process caches from the config follows through callbacks: the live
hub sends every viewer and operator a fresh snapshot with the new rooms; the
worker creates the new rooms' alert groups and syncs their schedules.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from tracker.config import ConfigError, SiteConfig, get_config, reload_config
from tracker.encoders import store

logger = logging.getLogger(__name__)

ORDER = {"type": "reload"}
_callbacks: list[tuple[asyncio.AbstractEventLoop, Callable[[], Awaitable[None]]]] = []


_running: set[asyncio.Future[None]] = set()  # the loop holds its tasks weakly: these stay until done


def start(callback: Callable[[], Awaitable[None]]) -> None:
    """Run a reload callback as a task of the loop this is called on."""
    task = asyncio.ensure_future(callback())
    _running.add(task)
    task.add_done_callback(_running.discard)


def when_reloaded(callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback()` on the running event loop after each successful reload."""
    _callbacks.append((asyncio.get_running_loop(), callback))


def room_changes(before: SiteConfig, after: SiteConfig) -> str:
    added = sorted(after.rooms.keys() - before.rooms.keys())
    removed = sorted(before.rooms.keys() - after.rooms.keys())
    changed = sorted(
        name for name in after.rooms.keys() & before.rooms.keys() if after.rooms[name] != before.rooms[name]
    )
    parts = [
        f"{what} {', '.join(names)}"
        for what, names in (("added", added), ("changed", changed), ("removed", removed))
        if names
    ]
    return "; ".join(parts) or "no room changed"


def reload_now(*, why: str) -> bool:
    """Read the config again; False (and the running config kept) when the edit is bad."""
    before = get_config()
    try:
        after = reload_config()
    except ConfigError as exc:
        logger.error("config not reloaded (%s), still running the previous one: %s", why, exc)
        return False
    logger.info("config reloaded (%s): %s", why, room_changes(before, after))
    for loop, callback in list(_callbacks):
        if loop.is_closed():
            _callbacks.remove((loop, callback))
        else:
            loop.call_soon_threadsafe(start, callback)
    return True


def reload_on_sighup() -> None:
    """Reload on SIGHUP (whose default would end the process). Main thread only, as Python requires."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, lambda signum, frame: reload_now(why="SIGHUP"))


def is_order(text: str) -> bool:
    return json.loads(text).get("type") == ORDER["type"]


async def order_reload(redis: Redis) -> int:
    """Tell every web process and worker to reload; returns how many processes listen."""
    return await redis.publish(store.control_channel(), json.dumps(ORDER))
