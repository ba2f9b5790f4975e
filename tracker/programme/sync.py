"""Each room's schedule kept current in Redis, and now/next pushed at talk boundaries.

The worker fetches every schedule source with a conditional GET, parses it
(tracker.schedule), stores each room's events and tells viewers when they
changed. A failed fetch or parse keeps the last good schedule, logs one
line, and shows the error and its age to operators. A timer moves each
room's "now and next" exactly when a talk (or break) starts or ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import http.client
import json
import logging
import os
import socket
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from redis.asyncio import Redis

from common.per_loop import PerLoop
from tracker.config import Room, get_config
from tracker.encoders import store, subscription
from tracker.schedule import (
    MAX_SCHEDULE_BYTES,
    Event,
    event_from_dict,
    event_to_dict,
    events_for_room,
    next_boundary,
    now_and_next,
    parse_schedule,
    room_names,
    with_fillers,
)

logger = logging.getLogger(__name__)

# A whole fetch (connecting, and every byte of headers and body) ends within
# this; a server dripping a byte at a time cannot hold a sync longer.
FETCH_TIMEOUT_SECONDS = 20
# The now/next timer wakes at least this often, in case the clock jumped.
MAX_TIMER_SECONDS = 60


def schedule_now() -> datetime:
    """The time schedules are read at: now, moved by SCHEDULE_OFFSET_SECONDS for rehearsals."""
    return datetime.now(UTC) + timedelta(seconds=settings.SCHEDULE_OFFSET_SECONDS)


def parse_moment(text: str) -> datetime:
    """A moment to look at a schedule: ISO 8601 with an offset, in a sane range."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"{text!r} is not ISO 8601 with an offset, e.g. 2026-12-27T10:00+01:00")
    if not 1971 <= moment.year <= 9000:  # fillers reach days around it: keep clear of datetime's limits
        raise ValueError("must be between the years 1971 and 9000")
    return moment


def timezone_of(room: Room) -> str:
    return room.settings.get("schedule-timezone") or "UTC"


def rooms_by_source(rooms: list[Room]) -> dict[tuple[str, str], list[Room]]:
    """Rooms grouped by schedule source and time zone, so one conference file is fetched once."""
    sources: dict[tuple[str, str], list[Room]] = {}
    for room in rooms:
        if room.settings.get("schedule"):
            sources.setdefault((room.settings["schedule"], timezone_of(room)), []).append(room)
    return sources


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: not modified since the validators were given
    etag: str
    last_modified: str


class Deadline:
    """The end of one fetch: a timer shuts the fetch's sockets when it passes.

    urllib's timeout bounds each read, not the fetch; shutting the socket
    down is what interrupts a read blocked on a server that drips bytes.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sockets: list[socket.socket] = []
        self.passed = False
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.append(sock)
            if self.passed:
                self.shut(sock)

    def expire(self) -> None:
        with self.lock:
            self.passed = True
            for sock in self.sockets:
                self.shut(sock)

    @staticmethod
    def shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Deadline:
        self.timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.timer.cancel()
        if kind is not None and self.passed:  # whatever the interrupted read raised, this is why
            raise TimeoutError(f"no complete answer within {self.seconds:g} s")


def bounded_opener(deadline: Deadline) -> urllib.request.OpenerDirector:
    """urllib as usual (redirects, proxies, TLS), with every socket watched by `deadline`."""

    def watched(connection_class: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        class Watched(connection_class):  # type: ignore[valid-type,misc]  # a class made at run time
            def connect(self) -> None:
                super().connect()
                deadline.watch(self.sock)

        return Watched

    class HTTPHandler(urllib.request.HTTPHandler):
        def do_open(self, http_class, req, **options):
            return super().do_open(watched(http_class), req, **options)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def do_open(self, http_class, req, **options):
            return super().do_open(watched(http_class), req, **options)

    return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


MISSING = "does not exist"


def file_problem(location: str) -> str | None:
    """Why a schedule file cannot be read (in words for the organiser), or None.

    Only regular files: a FIFO, a device or a socket may never finish
    reading, and stat() says so without opening it.
    """
    try:
        status = os.stat(location)
    except FileNotFoundError:
        return MISSING
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file (a FIFO, device or directory?): schedules are read from regular files only"
    if status.st_size > MAX_SCHEDULE_BYTES:
        return f"is {status.st_size} bytes: schedules are at most {MAX_SCHEDULE_BYTES}"
    return None


def read_file(location: str, *, last_modified: str) -> Fetched:
    """A schedule file, unless unchanged since `last_modified`; refuses what file_problem() refuses.

    Opened without blocking and checked on the open file, so a FIFO put in
    place after the check cannot hang the read either.
    """
    descriptor = os.open(location, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"{where(location)} is not a regular file: schedules are read from regular files only")
        stamp = email.utils.formatdate(status.st_mtime, usegmt=True)
        if stamp == last_modified:
            return Fetched(None, "", stamp)
        return Fetched(file.read(MAX_SCHEDULE_BYTES + 1), "", stamp)


def fetch(location: str, *, etag: str, last_modified: str, timeout: float) -> Fetched:
    """Fetch a schedule by URL (conditional GET) or file path, all within `timeout`; raises OSError."""
    if not location.startswith(("http://", "https://")):
        return read_file(location, last_modified=last_modified)
    headers = {"User-Agent": "streaming-tracker schedule sync"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with (
            Deadline(timeout) as deadline,
            bounded_opener(deadline).open(urllib.request.Request(location, headers=headers), timeout=timeout) as r,
        ):
            body = r.read(MAX_SCHEDULE_BYTES + 1)
            return Fetched(body, r.headers.get("ETag", ""), r.headers.get("Last-Modified", ""))
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(None, etag, last_modified)
        raise


def source_key(location: str, rooms: list[Room]) -> str:
    """Where a source's validators live. The rooms and how they read the source
    are part of the key: after a config change, "not modified" must not keep
    a room from its events."""
    reading = [(r.name, r.settings.get("schedule-key", ""), timezone_of(r)) for r in rooms]
    digest = hashlib.sha256(repr((location, sorted(reading))).encode()).hexdigest()[:16]
    return store.key("source", digest)


def public_event(event: Event | None) -> dict[str, Any] | None:
    """An event as viewers' pages get it with the room (no abstract: messages stay small)."""
    if event is None:
        return None
    data = event_to_dict(event)
    del data["abstract"]
    return data


# Sources whose fetch is still running past its deadline (a stalled network
# mount): not fetched again until it ends, so hung reads cannot pile up.
_fetching: set[str] = set()


async def fetch_in_time(location: str, *, etag: str, last_modified: str) -> Fetched:
    """fetch() in a thread of its own, given up on (not waited for) after its deadline; raises OSError.

    Not asyncio's executor: a process stopping waits for every thread of
    that, and a read that never returns would keep the worker from stopping.
    """
    if location in _fetching:
        raise TimeoutError("the previous read has not finished yet")
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Fetched] = loop.create_future()

    def settle(result: Fetched | None, error: BaseException | None) -> None:
        if answer.done():  # given up on already
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        result: Fetched | None = None
        error: BaseException | None = None
        try:
            result = fetch(location, etag=etag, last_modified=last_modified, timeout=FETCH_TIMEOUT_SECONDS)
        except Exception as exc:  # handed to the waiting coroutine
            error = exc
        finally:
            # Before the waiting coroutine hears of it: it may read this source again at
            # once, which would otherwise find this read still under way.
            _fetching.discard(location)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, result, error)

    _fetching.add(location)
    threading.Thread(target=run, name=f"schedule fetch {where(location)}", daemon=True).start()
    try:
        # URLs end by their own deadline; a file read has none but this one.
        return await asyncio.wait_for(answer, timeout=FETCH_TIMEOUT_SECONDS + 1)
    except TimeoutError:
        raise TimeoutError(f"no complete answer within {FETCH_TIMEOUT_SECONDS:g} s") from None


async def sync_source(redis: Redis, location: str, rooms: list[Room], *, now: float) -> list[str]:
    """Fetch and store one source's rooms; returns the rooms whose schedule changed."""
    validators = await redis.hgetall(source_key(location, rooms))
    try:
        fetched = await fetch_in_time(
            location, etag=validators.get("etag", ""), last_modified=validators.get("last_modified", "")
        )
        if fetched.body is None:
            await record_health(redis, rooms, now=now)
            return []
        # Parsing a large file takes a while: not on the loop the sweeper shares.
        events = await asyncio.to_thread(parse_schedule, fetched.body, timezone=timezone_of(rooms[0]))
    except Exception as exc:  # a broken source (HTTP, parser, absurd values) must not stop the others
        reason = describe(exc)
        logger.warning("schedule %s for %s: %s; keeping the last good one", where(location), room_list(rooms), reason)
        await record_health(redis, rooms, now=now, error=reason)
        return []
    per_room = {room.name: events_for_room(events, room.settings.get("schedule-key") or room.name) for room in rooms}
    changed = [
        name
        for name, mine in per_room.items()
        if await store.set_schedule(redis, name, [event_to_dict(e) for e in mine])
    ]
    validators = {"etag": fetched.etag, "last_modified": fetched.last_modified}
    await redis.hset(source_key(location, rooms), mapping=validators)
    await record_health(
        redis, rooms, now=now, events={name: len(mine) for name, mine in per_room.items()}, names=room_names(events)
    )
    return changed


def describe(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot fetch: {exc.reason}"
    return str(exc) or type(exc).__name__


def where(location: str) -> str:
    """A source as it may appear in logs: never a URL's query or credentials."""
    if location.startswith(("http://", "https://")):
        parts = urllib.parse.urlsplit(location)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
    return os.path.basename(location)


def room_list(rooms: list[Room]) -> str:
    return ", ".join(room.name for room in rooms)


# Room names of a source shown to operators when a room's key matches none.
MAX_NAMES_SHOWN = 30


async def record_health(
    redis: Redis,
    rooms: list[Room],
    *,
    now: float,
    error: str | None = None,
    events: dict[str, int] | None = None,
    names: list[str] | None = None,
) -> None:
    """Remember how each room's last fetch went, for operators.

    A room with 0 events gets the key it looked for and the room names the
    source does contain: a wrong `schedule-key` is the usual cause.
    """
    async with health_lock():  # sources finish side by side: no read-modify-write may interleave
        health = await store.get_ops_state(redis, "schedules")
        for room in rooms:
            entry = health.get(room.name, {})
            if error is None:
                count = (events or {}).get(room.name, entry.get("events", 0))
                entry = {"ok_at": now, "events": count}
                if count == 0 and names is not None:
                    entry["key"] = room.settings.get("schedule-key") or room.name
                    entry["names"] = names[:MAX_NAMES_SHOWN]
                elif count == 0 and "names" in health.get(room.name, {}):  # not modified: still the same names
                    entry = {**health[room.name], "ok_at": now}
            else:
                error_at = entry.get("error_at") if entry.get("error") == error else now
                entry = {**entry, "error": error, "error_at": error_at}
            health[room.name] = entry
        await store.set_ops_state(redis, "schedules", health)


_health_locks: PerLoop[asyncio.Lock] = PerLoop(asyncio.Lock)


def health_lock() -> asyncio.Lock:
    """The running loop's lock over the operators' schedule health (a lock belongs to one loop)."""
    return _health_locks.get()


async def sync(redis: Redis, *, only: str | None = None) -> list[str]:
    """Fetch every source (or only the one of room `only`) side by side; returns the rooms that changed.

    Each source is stored the moment it arrives, and its changed rooms are
    published on the schedules channel at once (whichever process synced:
    the worker or `manage.py schedule sync`), which wakes the now/next timer
    of every worker: a slow source holds back no other room's schedule.
    """
    rooms = [room for room in get_config().rooms.values() if only is None or room.name == only]

    async def one(location: str, members: list[Room]) -> list[str]:
        names = await sync_source(redis, location, members, now=time.time())
        if names:
            await redis.publish(store.schedules_channel(), json.dumps(names))
        return names

    results = await asyncio.gather(
        *(one(location, members) for (location, _), members in rooms_by_source(rooms).items())
    )
    return [name for names in results for name in names]


async def room_events(redis: Redis, room: Room, *, now: datetime) -> list[Event] | None:
    """The room's talks with fillers around `now`, or None if it has no schedule."""
    stored = await store.get_schedule(redis, room.name)
    if stored is None:
        return None
    min_gap = timedelta(minutes=get_config().settings["break-minutes"])
    talks = [event_from_dict(data) for data in stored]
    return with_fillers(talks, now=now, timezone=timezone_of(room), min_gap=min_gap, room=room.name)


async def push_now_next(redis: Redis, *, now: datetime) -> datetime | None:
    """Set every room's now/next for `now`; returns when the next one changes."""
    upcoming = []
    for room in get_config().rooms.values():
        events = await room_events(redis, room, now=now)
        if events is None:
            continue
        state = now_and_next(events, now=now)
        nownext = {"now": public_event(state.current), "next": public_event(state.next)}
        await store.set_room_attr(redis, room.name, "nownext", nownext)
        if (boundary := next_boundary(events, now=now)) is not None:
            upcoming.append(boundary)
    return min(upcoming, default=None)


async def now_next_forever(redis: Redis, changed: asyncio.Event) -> None:
    """Push now/next at each boundary, and at once when a schedule changed."""
    while True:
        changed.clear()  # before reading: a change from now on wakes the next wait
        boundary = await push_now_next(redis, now=schedule_now())
        delay: float = MAX_TIMER_SECONDS
        if boundary is not None:
            delay = min(delay, max(0.0, (boundary - schedule_now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout=delay)


async def wake_on_changes(changed: asyncio.Event) -> None:
    """Set `changed` whenever a sync (here or in another process) changed a schedule.

    Also once subscribed: a change published while the subscription was down
    is caught up with then.
    """
    client = store.connect()
    try:
        async with subscription.listening(client, store.schedules_channel()) as listening:
            changed.set()
            while True:
                if await listening.next_message() is not None:
                    changed.set()
    finally:
        await client.aclose()


async def sync_forever(redis: Redis) -> None:
    while True:
        await sync(redis)
        await asyncio.sleep(get_config().settings["schedule-minutes"] * 60)
