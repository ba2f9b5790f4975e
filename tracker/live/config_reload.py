"""Rooms change without a restart, in every process at once.

Every web process and the worker follow reload orders from start-up (not
from their first socket): `follow_orders` subscribes to the control channel,
keeps the process's name in a registry of followers (`<prefix>:processes`,
stamped every few seconds) and answers each order in `<prefix>:reload:<id>`
with what it applied, or the one-line error that refused it.

`manage.py reload_config` checks the files, orders the reload, waits for the
answers and names the processes that applied it, refused it or said nothing.
`kill -HUP` on any process reloads that process and orders the same of all
the others (other machines too: the order goes through Redis), logging the
same report.

What a process caches from the config follows through callbacks: the live
hub sends every viewer and operator a fresh snapshot with the new rooms; the
worker creates the new rooms' alert groups and syncs their schedules.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tracker.config import ConfigError, SiteConfig, get_config, reload_config
from tracker.encoders import store, subscription

logger = logging.getLogger(__name__)

ORDER_TYPE = "reload"
# Each follower stamps the registry this often; one not stamped for STALE_SECONDS is gone.
PRESENCE_SECONDS = 2
STALE_SECONDS = 5 * PRESENCE_SECONDS
# How long an order waits for the processes' answers, and how long answers are kept.
ANSWER_SECONDS = 5
ANSWERS_KEPT_SECONDS = 60

_callbacks: list[tuple[asyncio.AbstractEventLoop, Callable[[], Awaitable[None]]]] = []


def process_name(kind: str) -> str:
    return f"{kind} {socket.gethostname()}:{os.getpid()}"


# This process as the registry and the answers name it ("web host:pid", "worker host:pid"), once it follows orders.
_process = {"name": process_name("process")}


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


@dataclass(frozen=True)
class Outcome:
    """What one process made of a reload: applied (with the changes) or refused (with the error)."""

    applied: bool
    detail: str

    def __bool__(self) -> bool:
        return self.applied


def reload_now(*, why: str) -> Outcome:
    """Read the config again; refused (and the running config kept) when the edit is bad."""
    before = get_config()
    try:
        after = reload_config()
    except ConfigError as exc:
        logger.error("config not reloaded (%s), still running the previous one: %s", why, exc)
        return Outcome(applied=False, detail=str(exc))
    changes = room_changes(before, after)
    logger.info("config reloaded (%s): %s", why, changes)
    for loop, callback in list(_callbacks):
        if loop.is_closed():
            _callbacks.remove((loop, callback))
        else:
            loop.call_soon_threadsafe(start, callback)
    return Outcome(applied=True, detail=changes)


@dataclass
class Report:
    """Who answered an order: process name -> Outcome; `silent`: known processes that did not answer."""

    answers: dict[str, Outcome] = field(default_factory=dict)
    silent: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return bool(self.answers) and not self.silent and all(self.answers.values())

    def lines(self) -> list[str]:
        found = [
            f"{'applied' if outcome else 'refused'}: {name} ({outcome.detail})"
            for name, outcome in sorted(self.answers.items())
        ]
        return [*found, *(f"no answer: {name}" for name in self.silent)]


def answers_key(order_id: str) -> str:
    return store.key("reload", order_id)


async def answer(redis: Redis, order_id: str, name: str, outcome: Outcome) -> None:
    key = answers_key(order_id)
    text = json.dumps({"applied": outcome.applied, "detail": outcome.detail})
    async with redis.pipeline(transaction=True) as pipe:
        await pipe.hset(key, name, text).expire(key, ANSWERS_KEPT_SECONDS).execute()


def fresh(seen: str, *, now: float) -> bool:
    try:
        return now - float(seen) <= STALE_SECONDS
    except ValueError:  # not a stamp of ours: gone
        return False


async def known_processes(redis: Redis, *, now: float) -> list[str]:
    """Followers stamped lately; those gone quiet (killed, or stopped on another machine) are dropped."""
    registry = await redis.hgetall(store.key("processes"))
    stale = [name for name, seen in registry.items() if not fresh(seen, now=now)]
    if stale:
        await redis.hdel(store.key("processes"), *stale)
    return sorted(registry.keys() - set(stale))


async def order_reload(
    redis: Redis, *, origin: tuple[str, Outcome] | None = None, wait: float = ANSWER_SECONDS
) -> Report:
    """Order every process to reload, wait for their answers (at most `wait` s) and report.

    `origin`: the process that reloaded already (on SIGHUP), with its outcome.
    """
    order_id = uuid.uuid4().hex
    expected = set(await known_processes(redis, now=time.time()))
    origin_name = ""
    if origin is not None:
        origin_name = origin[0]
        await answer(redis, order_id, *origin)
        expected.add(origin_name)
    order = json.dumps({"type": ORDER_TYPE, "id": order_id, "origin": origin_name})
    # The origin hears its own order too (and leaves it): it is not waited for twice.
    others = await redis.publish(store.control_channel(), order) - bool(origin_name)
    deadline = time.monotonic() + wait
    while True:
        flat = await redis.hgetall(answers_key(order_id))
        # Every known process answered, and as many as heard it (one may have started since).
        if expected <= flat.keys() and len(flat.keys() - {origin_name}) >= others:
            break
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    answers = {name: Outcome(**json.loads(text)) for name, text in flat.items()}
    return Report(answers=answers, silent=sorted(expected - answers.keys()))


async def reload_everywhere(*, why: str) -> Report:
    """Reload this process, then order every other one to (SIGHUP's path); a bad edit goes no further."""
    outcome = reload_now(why=why)
    if not outcome:
        return Report(answers={_process["name"]: outcome})
    redis = store.connect()
    try:
        report = await order_reload(redis, origin=(_process["name"], outcome))
    except RedisError as exc:
        logger.warning("config reloaded here (%s), but the other processes cannot be told: %s", why, exc)
        return Report(answers={_process["name"]: outcome})
    finally:
        await redis.aclose()
    log = logger.info if report.complete else logger.warning
    log("config reload (%s) across processes: %s", why, "; ".join(report.lines()))
    return report


def reload_on_sighup() -> None:
    """Reload on SIGHUP (whose default would end the process), here and in every other process.

    Main thread only, as Python requires. The order to the others goes out from
    a thread of its own: a signal handler must not wait on the network.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def everywhere(signum: int, frame: object) -> None:
        threading.Thread(
            target=lambda: asyncio.run(reload_everywhere(why="SIGHUP")), name="config-reload-sighup", daemon=True
        ).start()

    signal.signal(signal.SIGHUP, everywhere)


def read_order(text: str) -> dict[str, str] | None:
    """A reload order's id and origin ("" for either when absent); None for anything else."""
    try:
        order = json.loads(text)
    except ValueError:
        order = None
    if not isinstance(order, dict) or order.get("type") != ORDER_TYPE:
        logger.warning("ignoring a message on the control channel that is not a reload order: %.100r", text)
        return None
    return {"id": str(order.get("id") or ""), "origin": str(order.get("origin") or "")}


async def follow_orders(kind: str) -> None:
    """Follow reload orders for as long as the process runs: subscribe, register, answer.

    Run from start-up: as a task of the worker, or in a thread of a web process
    (`follow_orders_in_background`), so a process nobody has connected to yet
    hears the order too.
    """
    name = _process["name"] = process_name(kind)
    while True:
        client = store.connect()
        try:
            async with subscription.listening(client, store.control_channel()) as listening:
                stamped = 0.0
                while True:
                    if time.time() - stamped >= PRESENCE_SECONDS:
                        # Registered only once subscribed: a known process always hears the order.
                        await client.hset(store.key("processes"), name, f"{time.time():.3f}")
                        stamped = time.time()
                    message = await listening.next_message()
                    if message is None:
                        continue
                    order = read_order(message["data"])
                    if order is None or order["origin"] == name:
                        continue
                    why = f"SIGHUP to {order['origin']}" if order["origin"] else "reload order"
                    outcome = reload_now(why=why)
                    if order["id"]:
                        await answer(client, order["id"], name, outcome)
        except (RedisError, OSError) as exc:
            logger.warning("config reload orders cannot reach redis: %s", exc)
            await asyncio.sleep(1)
        finally:
            await client.aclose()


def follow_orders_in_background(kind: str) -> None:
    """A web process's follower: a thread with its own event loop, started with the process."""
    threading.Thread(target=lambda: asyncio.run(follow_orders(kind)), name="config-reload-orders", daemon=True).start()
