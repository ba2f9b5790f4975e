"""The live feeds of one process: one Redis subscription, many local sockets.

Viewers: each process keeps a mirror of every room's public state. A change
arrives once over pub/sub, is turned into the public message and serialized
once, and the same text is written to every local socket. A socket that
connects gets the mirror's snapshot without asking Redis. If the
subscription drops or a version is skipped, the mirror reloads from Redis
and every socket gets the fresh snapshot, so a lost message never means
lost state.

Viewer counts are not room changes: in a keynote they change every second,
and as versioned messages they were most of what every socket received. The
hub reads the counts every few seconds and sends those that changed, without
a version, only to the sockets whose page shows them: a room page its own
room's count, a page of every room (index, monitor wall) all of them.

Operators (few, so no mirror): each message is forwarded as published; an
operator socket reads its own snapshot from Redis and resyncs the same way.

Orders for particular sockets (close this encoder's, this operator's) are
not here: they go through the Channels layer (tracker.socket_orders). Config
reloads reach the process from start-up through tracker.live.config_reload,
which calls the hub back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from common.per_loop import PerLoop
from common.tasks import honour_lost_cancel
from tracker.config import get_config
from tracker.encoders import store, subscription
from tracker.live import audience, draining
from tracker.live import config_reload as reload
from tracker.live import public_rooms as rooms
from tracker.live.daphne_sockets import Frame

logger = logging.getLogger(__name__)

# After the feed lost Redis: again almost at once, then every half second
# for as long as a Sentinel failover takes (seconds: every second asleep after
# the promotion is a second of stale pages; bench.failover found the feed
# back 1.4 s after it with a back-off of 1 s, then 2 s), then backing off.
RETRY_DELAYS = (0.1, *[0.5] * 20, 1, 2, 5)
# This process's audience and pushed-message count go to Redis this often.
REPORT_SECONDS = 1
# ...and at least this often when nothing changed, to show the process lives.
KEEPALIVE_SECONDS = 5
LOST_TEXT = json.dumps({"type": "status", "state": "reconnecting"})
# Changed viewer counts go to the pages that show them this often: a figure a
# person glances at, not worth a message per viewer per second.
FIGURES_SECONDS = 3
# What a socket follows when its page shows every room's count.
EVERY_ROOM = ""


class Listener(Protocol):
    """A viewer's socket (also an operator's: the "reconnecting" notice reaches both)."""

    async def push(self, text: str) -> None: ...

    def write(self, frame: Frame) -> bool:
        """Write a broadcast's frame at once if the socket can; False: the hub awaits push()."""
        ...

    async def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class OpsListener(Listener, Protocol):
    async def push_ops(self, version: int | None, text: str) -> None: ...

    async def resync(self) -> None: ...


class Closable(Protocol):
    """An encoder's socket: told only to go elsewhere when this process stops."""

    async def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class LiveHub:
    def __init__(self) -> None:
        self.listeners: set[Listener] = set()
        self.ops_listeners: set[OpsListener] = set()
        self.encoder_sockets: set[Closable] = set()
        self.version = 0
        self.rooms: dict[str, dict[str, Any]] = {}
        self.ready = asyncio.Event()
        self._snapshot_text: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._reporter: asyncio.Task[None] | None = None
        self._figures: asyncio.Task[None] | None = None
        self.unflushed_sends = 0
        self.unflushed_direct = 0  # of those, written straight to daphne's socket (daphne_sockets)
        # Viewer sockets watching a room: its tab, address and playback.
        self.watching: dict[Listener, audience.Tab] = {}
        # Viewer sockets whose page shows viewer counts: the room, or EVERY_ROOM.
        self.following: dict[Listener, str] = {}
        self.process = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def started(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-hub")
            self._reporter = asyncio.create_task(self._report_forever(), name="live-hub-reports")
            draining.install(self)  # from now on there are sockets to tell on SIGTERM
            self._figures = asyncio.create_task(self._figures_forever(), name="live-hub-viewer-counts")
            reload.when_reloaded(self.config_changed)
        await self.ready.wait()

    async def close_all(self, *, code: int, reason: str) -> int:
        """Close every viewer's, operator's and encoder's socket, and withdraw this process's
        viewer counts (its viewers are about to be counted by the process they reconnect to);
        returns how many sockets."""
        sockets = [*self.listeners, *self.ops_listeners, *self.encoder_sockets]
        for listener in sockets:
            with contextlib.suppress(Exception):  # one gone already must not keep the others open
                await listener.close(code=code, reason=reason)
        with contextlib.suppress(RedisError, OSError):  # Redis away: the report goes stale by itself
            await audience.withdraw_process(store.get_redis(), self.process)
        return len(sockets)

    async def join(self, listener: Listener) -> str:
        """Register a viewer; returns the snapshot it must be sent first.

        Nothing between registering and the caller's send yields to the event
        loop, so no change can be pushed to the listener before its snapshot.
        """
        await self.started()
        self.listeners.add(listener)
        return self.snapshot_text()

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        self.watching.pop(listener, None)
        self.following.pop(listener, None)

    def watch(self, listener: Listener, room: str, tab: str, address: str = "") -> None:
        """Count the listener's browser tab as a viewer of `room`; its page shows that room's count."""
        self.watching[listener] = audience.Tab(room=room, tab=tab, address=address)
        self.following[listener] = room

    def follow(self, listener: Listener, room: str) -> None:
        """Send the listener `room`'s viewer count when it changes (EVERY_ROOM: every room's)."""
        self.following[listener] = room

    def playback(self, listener: Listener, state: str, *, format: str = "", error: str = "") -> None:
        tab = self.watching.get(listener)
        if tab is not None:
            tab.state = state
            if state == "error":
                tab.failed(format=format, error=error, now=time.time())

    def reported(self, listener: Listener, *, format: str, error: str) -> None:
        """The viewer said "report a problem": their client fails until it plays again or the window passes."""
        tab = self.watching.get(listener)
        if tab is not None:
            tab.failed(format=format, error=error or "reported by the viewer", now=time.time())

    def audience(self, now: float | None = None) -> dict[str, dict[str, Any]]:
        config = get_config()
        windows = {
            name: float(room.setting("viewers-failing-seconds", config.settings)) for name, room in config.rooms.items()
        }
        return audience.process_counts(
            list(self.watching.values()), now=time.time() if now is None else now, windows=windows
        )

    async def join_ops(self, listener: OpsListener) -> None:
        await self.started()
        self.ops_listeners.add(listener)

    def leave_ops(self, listener: OpsListener) -> None:
        self.ops_listeners.discard(listener)

    def snapshot_text(self) -> str:
        if self._snapshot_text is None:
            self._snapshot_text = json.dumps(
                {"type": "snapshot", "version": self.version, "rooms": list(self.rooms.values())}
            )
        # Browsers set their clock by ours (progress bars, talk boundaries):
        # the server's time and the schedule offset, stamped per send. The
        # offset exactly as set (JSON's shortest round trip): a year back, as
        # a rehearsal sets it, has more digits than a short format keeps.
        offset = json.dumps(float(settings.SCHEDULE_OFFSET_SECONDS))
        clock = f'{{"time": {time.time():.3f}, "schedule_offset": {offset}, '
        return clock + self._snapshot_text[1:]

    async def _run(self) -> None:
        failures = 0
        while True:
            # No quiet reconnect here: a dropped subscription must be seen, so
            # the mirror reloads and every socket gets a fresh snapshot.
            # Commands keep the short timeout (a reload from a frozen Redis fails, it does
            # not hang); the subscription's reads have their own (tracker.encoders.subscription).
            redis = store.connect(retry=Retry(NoBackoff(), 0), retry_on_error=[])
            try:
                async with subscription.listening(redis, store.live_channel(), store.ops_channel()) as listening:
                    # Subscribe first, then read: a change in between shows up
                    # in both and is dropped by its version.
                    await self._reload(redis)
                    if failures:
                        logger.info("live feed reconnected to redis")
                        await self._each(self.ops_listeners, lambda listener: listener.resync())
                    failures = 0
                    while True:
                        message = await listening.next_message()
                        honour_lost_cancel()
                        if message is not None:
                            try:
                                await self._route(redis, message["channel"], message["data"])
                            except (ValueError, KeyError, TypeError) as exc:  # not ours: the next version reloads
                                logger.warning("ignoring an unreadable message on %r: %s", message["channel"], exc)
            except Exception as exc:  # Redis gone, or a bug: either way, reload from Redis
                if failures == 0:
                    if isinstance(exc, (RedisError, OSError)):
                        logger.warning("live feed lost redis, retrying: %s", exc)
                    else:
                        logger.exception("live feed failed, reloading")
                    # Browsers show "reconnecting"; a fresh snapshot follows the return.
                    await self._broadcast(LOST_TEXT)
                    await self._each(self.ops_listeners, lambda listener: listener.push(LOST_TEXT))
                self.ready.clear()
                await asyncio.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)])
                failures += 1
            finally:
                await redis.aclose()

    async def _reload(self, redis: store.Redis) -> None:
        config = get_config()
        snapshot = await store.read_snapshot(redis, list(config.rooms))
        self.version = snapshot.version
        self.rooms = rooms.public_rooms(config.rooms, snapshot)
        self._snapshot_text = None
        self.ready.set()
        await self._broadcast(self.snapshot_text())

    async def _route(self, redis: store.Redis, channel: str, data: str) -> None:
        if channel == store.live_channel():
            await self._apply(redis, json.loads(data))
        elif self.ops_listeners:  # the ops channel: every heartbeat comes here, parse only for someone
            version = json.loads(data).get("version")  # None: a figure (the audience)
            await self._each(self.ops_listeners, lambda listener: listener.push_ops(version, data))

    async def config_changed(self) -> None:
        """Rooms were added, changed or removed: everyone gets a snapshot of the new set."""
        await self._reload(store.get_redis())
        await self._each(self.ops_listeners, lambda listener: listener.resync())

    async def _apply(self, redis: store.Redis, message: dict[str, Any]) -> None:
        version = message["version"]
        if version <= self.version:
            return
        if version != self.version + 1:
            logger.info("live feed skipped from version %s to %s, reloading", self.version, version)
            await self._reload(redis)
            return
        self.version = version
        self._snapshot_text = None
        room = get_config().rooms.get(message["room"])
        if room is None:
            # A room no longer configured (say, its encoders still timing out):
            # nothing to show, but browsers must see the version go by.
            await self._broadcast(json.dumps({"type": "noop", "version": version}))
        elif message["type"] == "room":
            public = rooms.public_room(room, message["encoders"], message["attrs"])
            self.rooms[room.name] = public
            await self._broadcast(json.dumps({"type": "room", "version": version, "room": public}))
        else:  # "schedule": the room's programme changed; pages fetch it again
            await self._broadcast(json.dumps(message))

    async def _broadcast(self, text: str) -> None:
        await self._send(self.listeners, text)

    async def _send(self, listeners: set[Listener], text: str) -> None:
        """One frame for every listener; no await for those daphne's socket takes at once."""
        self.unflushed_sends += len(listeners)
        frame = Frame(text)
        for listener in list(listeners):
            try:
                if listener.write(frame):
                    self.unflushed_direct += 1
                else:
                    await listener.push(text)
            except Exception as exc:  # one broken socket must not stop the others
                await self._drop(listeners, listener, exc)

    async def _figures_forever(self) -> None:
        redis = store.connect()
        while True:
            await asyncio.sleep(FIGURES_SECONDS)
            honour_lost_cancel()
            if not self.ready.is_set():
                continue  # the feed reloads; its snapshot brings the counts
            try:
                counts = await store.read_viewer_counts(redis, list(self.rooms))
            except RedisError:
                continue  # the feed's own reconnect tells viewers
            await self.send_counts(counts)

    async def send_counts(self, counts: dict[str, int]) -> None:
        """Send the counts that changed to the sockets following them; the snapshot gets them too."""
        changed = {room: n for room, n in counts.items() if room in self.rooms and self.rooms[room]["viewers"] != n}
        if not changed:
            return
        for room, n in changed.items():
            self.rooms[room]["viewers"] = n
        self._snapshot_text = None
        texts = {room: json.dumps({"type": "viewers", "rooms": {room: n}}) for room, n in changed.items()}
        texts[EVERY_ROOM] = json.dumps({"type": "viewers", "rooms": changed})
        audiences: dict[str, set[Listener]] = {}
        for listener, room in self.following.items():
            if room in texts:
                audiences.setdefault(room, set()).add(listener)
        for room, listeners in audiences.items():
            await self._send(listeners, texts[room])

    async def _report_forever(self) -> None:
        """Tell Redis, every second, who watches here and how many messages went out."""
        redis = store.connect()
        reported, reported_at = None, 0.0
        while True:
            await asyncio.sleep(REPORT_SECONDS)
            honour_lost_cancel()  # each turn calls Redis
            sends, self.unflushed_sends = self.unflushed_sends, 0
            direct, self.unflushed_direct = self.unflushed_direct, 0
            now = time.time()
            counts = self.audience(now)
            try:
                if sends:
                    await count_writes(redis, sends=sends, direct=direct)
                if counts != reported or now - reported_at >= KEEPALIVE_SECONDS:
                    await audience.report_process(redis, self.process, counts, now=now)
                    reported, reported_at = counts, now
            except Exception as exc:  # Redis away, or a bug: keep reporting, this process's viewers count
                if not isinstance(exc, RedisError):
                    logger.exception("reporting the audience failed")
                self.unflushed_sends += sends  # try again next time
                self.unflushed_direct += direct

    @staticmethod
    async def _each(targets: set[Any], call: Callable[[Any], Awaitable[None]]) -> None:
        for target in list(targets):
            try:
                await call(target)
            except Exception as exc:  # one broken socket must not stop the others
                await LiveHub._drop(targets, target, exc)

    @staticmethod
    async def _drop(targets: set[Any], target: Any, error: Exception) -> None:
        # Usually a client that went away mid-send: one line, not a traceback per socket.
        logger.warning("dropping a socket that failed to receive: %s: %s", type(error).__name__, error)
        targets.discard(target)
        # Closed, so its browser reconnects and resyncs instead of waiting forever.
        with contextlib.suppress(Exception):
            await target.close(code=1011)


_hubs: PerLoop[LiveHub] = PerLoop(LiveHub)


def get_hub() -> LiveHub:
    """The hub of the running event loop (one per process in production)."""
    return _hubs.get()


async def count_writes(redis: store.Redis, *, sends: int, direct: int) -> None:
    """Add this process's messages to the site's counts: all of them, and by path (the fence's metric)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incrby(store.key("stats", "pushed"), sends)
        pipe.hincrby(store.key("stats", "writes"), "direct", direct)
        pipe.hincrby(store.key("stats", "writes"), "asgi", sends - direct)
        await pipe.execute()
