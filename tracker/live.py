"""The live feeds of one process: one Redis subscription, many local sockets.

Viewers: each process keeps a mirror of every room's public state. A change
arrives once over pub/sub, is turned into the public message and serialized
once, and the same text is written to every local socket. A socket that
connects gets the mirror's snapshot without asking Redis. If the
subscription drops or a version is skipped, the mirror reloads from Redis
and every socket gets the fresh snapshot, so a lost message never means
lost state.

Operators (few, so no mirror): each message is forwarded as published; an
operator socket reads its own snapshot from Redis and resyncs the same way.

Encoders: orders on the control channel (a revoked token) reach the
encoder's socket in whichever process holds it.
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
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from redis.exceptions import RedisError

from . import audience, reload, rooms, store
from .config import get_config

logger = logging.getLogger(__name__)

RETRY_DELAYS = (0.1, 0.5, 1, 2, 5)
# This process's audience and pushed-message count go to Redis this often.
REPORT_SECONDS = 1
# ...and at least this often when nothing changed, to show the process lives.
KEEPALIVE_SECONDS = 5
LOST_TEXT = json.dumps({"type": "status", "state": "reconnecting"})
# How long a read may idle before the connection is checked with a PING.
HEALTH_CHECK_SECONDS = 15


class Listener(Protocol):
    """A viewer's socket (also an operator's: the "reconnecting" notice reaches both)."""

    async def push(self, text: str) -> None: ...

    async def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class OpsListener(Listener, Protocol):
    async def push_ops(self, version: int, text: str) -> None: ...

    async def resync(self) -> None: ...


class EncoderSocket(Protocol):
    async def revoked(self) -> None: ...


class LiveHub:
    def __init__(self) -> None:
        self.listeners: set[Listener] = set()
        self.ops_listeners: set[OpsListener] = set()
        self.encoder_sockets: dict[str, set[EncoderSocket]] = {}
        self.version = 0
        self.rooms: dict[str, dict[str, Any]] = {}
        self.ready = asyncio.Event()
        self._snapshot_text: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._reporter: asyncio.Task[None] | None = None
        self.unflushed_sends = 0
        # Viewer sockets watching a room: (room, browser tab, playback state).
        self.watching: dict[Listener, tuple[str, str, str]] = {}
        self.process = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def started(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-hub")
            self._reporter = asyncio.create_task(self._report_forever(), name="live-hub-reports")
            reload.when_reloaded(self.config_changed)
        await self.ready.wait()

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

    def watch(self, listener: Listener, room: str, tab: str) -> None:
        """Count the listener's browser tab as a viewer of `room`."""
        self.watching[listener] = (room, tab, "")

    def playback(self, listener: Listener, state: str) -> None:
        if listener in self.watching:
            room, tab, _ = self.watching[listener]
            self.watching[listener] = (room, tab, state)

    def audience(self) -> dict[str, dict[str, Any]]:
        tabs: dict[str, dict[str, str]] = {}
        for room, tab, state in self.watching.values():
            tabs.setdefault(room, {})[tab] = state
        return audience.process_counts(tabs)

    async def join_ops(self, listener: OpsListener) -> None:
        await self.started()
        self.ops_listeners.add(listener)

    def leave_ops(self, listener: OpsListener) -> None:
        self.ops_listeners.discard(listener)

    async def join_encoder(self, name: str, connection: EncoderSocket) -> None:
        await self.started()
        self.encoder_sockets.setdefault(name, set()).add(connection)

    def leave_encoder(self, name: str, connection: EncoderSocket) -> None:
        connections = self.encoder_sockets.get(name, set())
        connections.discard(connection)
        if not connections:
            self.encoder_sockets.pop(name, None)

    def snapshot_text(self) -> str:
        if self._snapshot_text is None:
            self._snapshot_text = json.dumps(
                {"type": "snapshot", "version": self.version, "rooms": list(self.rooms.values())}
            )
        return self._snapshot_text

    async def _run(self) -> None:
        failures = 0
        while True:
            redis = store.connect(socket_timeout=None, health_check_interval=HEALTH_CHECK_SECONDS)
            try:
                async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(store.live_channel(), store.ops_channel(), store.control_channel())
                    # Subscribe first, then read: a change in between shows up
                    # in both and is dropped by its version.
                    await self._reload(redis)
                    if failures:
                        logger.info("live feed reconnected to redis")
                        await self._each(self.ops_listeners, lambda listener: listener.resync())
                    failures = 0
                    while True:
                        message = await pubsub.get_message(timeout=HEALTH_CHECK_SECONDS)
                        if message is not None:
                            await self._route(redis, message["channel"], message["data"])
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
        elif channel == store.ops_channel():
            if self.ops_listeners:  # every heartbeat comes here: parse only for someone
                version = json.loads(data)["version"]
                await self._each(self.ops_listeners, lambda listener: listener.push_ops(version, data))
        else:
            order = json.loads(data)
            if order["type"] == "revoke":
                connections = self.encoder_sockets.get(order["encoder"], set())
                await self._each(connections, lambda connection: connection.revoked())
            elif reload.is_order(data):
                reload.reload_now(why="reload_config")

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
        self.unflushed_sends += len(self.listeners)
        await self._each(self.listeners, lambda listener: listener.push(text))

    async def _report_forever(self) -> None:
        """Tell Redis, every second, who watches here and how many messages went out."""
        redis = store.connect()
        reported, reported_at = None, 0.0
        while True:
            await asyncio.sleep(REPORT_SECONDS)
            sends, self.unflushed_sends = self.unflushed_sends, 0
            counts, now = self.audience(), time.time()
            try:
                if sends:
                    await redis.incrby(store.key("stats", "pushed"), sends)
                if counts != reported or now - reported_at >= KEEPALIVE_SECONDS:
                    await audience.report_process(redis, self.process, counts, now=now)
                    reported, reported_at = counts, now
            except Exception as exc:  # Redis away, or a bug: keep reporting, this process's viewers count
                if not isinstance(exc, RedisError):
                    logger.exception("reporting the audience failed")
                self.unflushed_sends += sends  # try again next time

    @staticmethod
    async def _each(targets: set[Any], call: Callable[[Any], Awaitable[None]]) -> None:
        for target in list(targets):
            try:
                await call(target)
            except Exception:  # one broken socket must not stop the others
                logger.exception("dropping a socket that failed to receive")
                targets.discard(target)
                # Closed, so its browser reconnects and resyncs instead of waiting forever.
                with contextlib.suppress(Exception):
                    await target.close(code=1011)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub] = weakref.WeakKeyDictionary()


def get_hub() -> LiveHub:
    """The hub of the running event loop (one per process in production)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = LiveHub()
    return hub
