"""Websocket consumers: viewers' and operators' live feeds, encoders' heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from redis.exceptions import RedisError

from common.addresses import is_venue, scope_address

from . import control_plane, controls, store
from .audience import PLAYBACK_STATES
from .budgets import FRAMES_PER_SECOND, FrameBudget, address_limits, too_big
from .budgets import MAX_FRAME_BYTES as MAX_VIEWER_FRAME_BYTES
from .config import get_config
from .dashboard import ops_snapshot
from .draining import CLOSE_RESTARTING, draining
from .draining import REASON as DRAINING_REASON
from .frames import DaphneSocket, Frame, direct_writer, own_inbox
from .health import Identity
from .heartbeat import InvalidField, bearer, decode_json, parse_heartbeat
from .identities import find_identity
from .ingest import Refused, disconnect, ingest
from .live import EVERY_ROOM, get_hub

logger = logging.getLogger(__name__)

# Close codes: 4000 + the HTTP status a request would have got. Daphne
# replaces the protocol's own codes (1009 too big, 1013 try again) with 1011
# when an application sends them, so these are in the application's range too.
CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 4413
CLOSE_RATE_LIMITED = 4429
CLOSE_TRY_AGAIN = 4503
MAX_FRAME_BYTES = 64 * 1024
# Consecutive bad frames an encoder may send before it is disconnected.
MAX_BAD_FRAMES = 5
PONG = json.dumps({"type": "pong"})
# A viewer may report a problem this often per socket; more are dropped.
REPORT_SECONDS = 10


class DatabaseFreeConsumer(AsyncWebsocketConsumer):
    """A consumer that never touches the database.

    Channels hops to Django's sync thread before every message to close stale
    database connections; consumers without a database skip that hop, which
    FINDINGS.md measured at half the server CPU of a broadcast.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' consumer loop without its channel-layer half (viewers' sockets never join the layer).

        Channels waits on `receive` through a task and asyncio.wait so a layer
        could feed the same loop; held by every idle socket, those cost
        ~1.5 KB each (docs/performance.md). One await per message does the same here,
        from a lighter inbox than daphne's queue (tracker.frames).
        """
        self.scope, self.base_send, self.channel_layer = scope, send, None
        receive = own_inbox(receive, send)
        with contextlib.suppress(StopConsumer):
            while True:
                await self.dispatch(await receive())

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer()

    async def push(self, text: str) -> None:
        await self.base_send({"type": "websocket.send", "text": text})

    writer: DaphneSocket | None = None

    def write(self, frame: Frame) -> bool:
        """Write a broadcast's frame at once if daphne's socket is at hand; False: push() it instead."""
        if self.writer is None:
            return False
        self.writer(frame)
        return True

    @staticmethod
    def client_request(text_data: str | None) -> dict[str, Any]:
        """A client's JSON object, or {} for anything else."""
        try:
            request = decode_json(text_data or "")
        except InvalidField:
            return {}
        return request if isinstance(request, dict) else {}


class ControlledConsumer(DatabaseFreeConsumer):
    """A socket the control plane can close (tracker.control_plane): an encoder's or an operator's.

    It gets a channel of the Channels layer and joins the group of whose
    socket it is; a `control.close` order sent to the group closes it, in
    whichever process it is. Viewers' sockets are thousands and all told the
    same, by the hub: they stay off the layer.
    """

    channel_name = ""
    group = ""
    # When it joined its group. Wall-clock time, as orders come from other
    # machines: one joined within their clocks' difference of an order may be spared.
    joined = 0.0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope, self.base_send = scope, send
        self.channel_layer = get_channel_layer()
        try:
            self.channel_name = await self.channel_layer.new_channel()
        except (RedisError, OSError) as exc:  # Redis away: join() refuses the socket with 4503
            logger.warning("no control channel for a socket: %s", exc)
            await super().__call__(scope, receive, send)
            return
        layer_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive, layer_receive], self.dispatch)

    async def join(self, group: str) -> bool:
        """Join `group` to be reached by its orders; False: Redis is away and the socket is closed (4503)."""
        try:
            if not self.channel_name:
                raise RedisError("no channel on the layer")
            self.joined = time.time()
            await self.channel_layer.group_add(group, self.channel_name)
        except (RedisError, OSError):
            await self.close(code=CLOSE_TRY_AGAIN, reason="live state store unreachable")
            return False
        self.group = group
        return True

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        if self.group:
            with contextlib.suppress(RedisError, OSError):  # Redis away: its subscription went with it
                await self.channel_layer.group_discard(self.group, self.channel_name)
        await super().websocket_disconnect(message)

    async def control_close(self, message: dict[str, Any]) -> None:
        # An order reaches sockets that joined after it was sent (pub/sub delivers
        # when it delivers): those are newer than the order and stay open.
        if self.joined < message["joined_before"]:
            await self.close(code=message["code"], reason=message["reason"])


class LiveConsumer(DatabaseFreeConsumer):
    """/ws/live/: a snapshot of every room, then each change, all versioned;
    and every few seconds, unversioned, the changed viewer counts the page shows.

    Clients may send:
      {"type": "snapshot"} whenever they see a version gap;
      {"type": "watch", "room": R, "tab": T} to count as a viewer of R (T
        identifies the browser tab, so its reconnects count once) and get R's count;
      {"type": "viewers", "room": R} to get R's viewer count without being
        counted, or {"type": "viewers"} for every room's;
      {"type": "health", "state": S, ...} how playback goes (S is playing,
        buffering, error or paused), aggregated per room for operators;
      {"type": "report", "room": R, "tab": T, "format", "endpoint", "error",
        "browser", "text"} a viewer's "report a problem", for operators.
    Within budgets (tracker.budgets): frames per second and bytes per frame,
    sockets and counted tabs per client address.
    """

    last_health = last_snapshot = last_report = 0.0
    address = ""
    closing = False  # frames queued behind a close are not looked at
    exempt = False  # a venue address: the hall may share one

    async def connect(self) -> None:
        self.writer = direct_writer(self.base_send)
        await self.accept()
        if draining():  # this process is stopping: the browser reconnects to another
            await self.close(code=CLOSE_RESTARTING, reason=DRAINING_REASON)
            return
        self.address = scope_address(self.scope)
        if self.writer is not None:
            # Held for hours by every idle viewer: the request's headers were needed until here.
            self.writer.shed_handshake()
            self.scope["headers"].clear()
        self.budget = FrameBudget(time.monotonic())
        settings = get_config().settings
        self.exempt = is_venue(self.address, settings["localips"])
        if not self.exempt and not address_limits().admit(
            self.address, self, limit=settings["viewer-sockets-per-address"]
        ):
            await self.close_once(CLOSE_RATE_LIMITED, f"at most {settings['viewer-sockets-per-address']} per address")
            return
        await self.push(await get_hub().join(self))

    async def disconnect(self, code: int) -> None:
        address_limits().release(self.address, self)
        get_hub().leave(self)
        if self.writer is not None:
            self.writer.forget()

    async def close_once(self, code: int, reason: str) -> None:
        self.closing = True
        await self.close(code=code, reason=reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        if too_big(text_data, bytes_data):
            await self.close_once(CLOSE_RATE_LIMITED, f"frames are at most {MAX_VIEWER_FRAME_BYTES} bytes")
            return
        if not self.budget.spend(time.monotonic()):
            await self.close_once(CLOSE_RATE_LIMITED, f"at most {FRAMES_PER_SECOND} frames per second")
            return
        request = self.client_request(text_data)
        kind = request.get("type")
        room, tab = request.get("room"), request.get("tab")
        if kind == "snapshot":
            # A snapshot is every room: one per second per socket is plenty.
            if time.monotonic() - self.last_snapshot >= 1:
                self.last_snapshot = time.monotonic()
                await self.push(get_hub().snapshot_text())
        elif kind == "watch" and isinstance(room, str) and room in get_config().rooms and controls.TAB.match(str(tab)):
            # Beyond its address's share of tabs the socket still gets every change, but is not counted.
            limit = get_config().settings["viewer-tabs-per-address"]
            if self.exempt or address_limits().count_tab(self.address, self, room, tab, limit=limit):
                get_hub().watch(self, room, tab)
        elif kind == "viewers" and (room is None or (isinstance(room, str) and room in get_config().rooms)):
            get_hub().follow(self, EVERY_ROOM if room is None else room)
        elif kind == "health" and request.get("state") in PLAYBACK_STATES:
            # Clients report every 30 s at most; a flood changes nothing.
            if time.monotonic() - self.last_health >= 1:
                self.last_health = time.monotonic()
                get_hub().playback(self, request["state"])
        elif kind == "report":
            await self.report(request)
        else:
            await self.close_once(CLOSE_BAD_MESSAGE, "expected a snapshot, watch, viewers, health or report message")

    async def report(self, request: dict[str, Any]) -> None:
        try:
            report = controls.parse_report(request)
        except controls.Refused as exc:
            await self.close_once(CLOSE_BAD_MESSAGE, str(exc))
            return
        if time.monotonic() - self.last_report < REPORT_SECONDS:
            return  # one person reports once; a loop of reports is noise
        self.last_report = time.monotonic()
        with contextlib.suppress(RedisError):  # a lost report is no reason to drop the viewer
            await controls.add_report(store.get_redis(), report, now=time.time())


class OpsConsumer(ControlledConsumer):
    """/ws/ops/: every encoder record and transition, for logged-in operators.

    Operators may send {"type": "snapshot"}, or act (tracker.controls):
      {"type": "ack", "room": R, "name": E} to say they are on E's problem;
      {"type": "silence", "room": R, ["name": E,] "minutes": M} (0 ends it);
      {"type": "note", "room": R, "name": E, "text": T} ("" removes it).
    A refused action is answered {"type": "refused", "message": ...} (no
    version: it is for this socket only); done ones reach every operator.
    {"type": "ping"} is answered {"type": "pong"}: a quiet feed and a dead
    connection look alike to a browser until it asks.
    """

    pending: list[tuple[int | None, str]] | None = None
    resyncing: asyncio.Lock

    async def connect(self) -> None:
        await self.accept()
        self.resyncing = asyncio.Lock()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHORIZED, reason="log in at /tracker/login/ first")
            return
        if not user.is_staff:
            await self.close(code=CLOSE_FORBIDDEN, reason="operators only: ask an admin to make you staff")
            return
        # Logging out, deactivation or a new password close it (tracker.operators).
        if await self.join(control_plane.operator_group(user.pk)):
            await get_hub().join_ops(self)
            await self.resync()

    async def disconnect(self, code: int) -> None:
        get_hub().leave_ops(self)

    async def resync(self) -> None:
        """Send a fresh snapshot; changes arriving meanwhile wait, then follow it.

        The hub (after a Redis reconnect) and the browser (after a gap) may
        both ask at once: one snapshot at a time.
        """
        async with self.resyncing:
            self.pending = []
            try:
                snapshot_version, snapshot = await ops_snapshot(store.get_redis(), now=time.time())
                await self.push(snapshot)
                pending = self.pending
            except RedisError:
                await self.close(code=CLOSE_TRY_AGAIN, reason="live state store unreachable")
                return
            finally:
                self.pending = None  # never leave changes buffered for good
            for version, text in pending:
                # Unversioned figures follow in order: the last one is the newest.
                if version is None or version > snapshot_version:
                    await self.push(text)

    async def push_ops(self, version: int | None, text: str) -> None:
        if self.pending is not None:
            self.pending.append((version, text))
        else:
            await self.push(text)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        request = self.client_request(text_data)
        kind = request.get("type")
        if kind == "snapshot":
            await self.resync()
        elif kind == "ping":
            await self.push(PONG)
        elif kind in controls.OPERATOR_ACTIONS:
            await self.act(kind, request)
        else:
            await self.close(code=CLOSE_BAD_MESSAGE, reason="expected a snapshot, ping, ack, silence or note message")

    async def act(self, kind: str, request: dict[str, Any]) -> None:
        action = controls.OPERATOR_ACTIONS[kind]
        try:
            await action(store.get_redis(), request, by=self.scope["user"].get_username(), now=time.time())
        except controls.Refused as exc:
            await self.push(json.dumps({"type": "refused", "message": str(exc)}))
        except RedisError:
            await self.push(json.dumps({"type": "refused", "message": "live state store unreachable; try again"}))


class EncoderConsumer(ControlledConsumer):
    """/tracker/ws/encoder/: heartbeats as frames, each answered with an ack.

    One socket per encoder: a newer connection closes the older one (4409),
    say a link the agent gave up on that the server still holds. A revoked
    token closes it (4403, tracker.identities).
    """

    token: str | None = None
    identity: Identity | None = None
    bad_frames = 0
    # When this socket last had a heartbeat accepted (0: never).
    last_accepted = 0.0

    async def connect(self) -> None:
        await self.accept()
        headers = dict(self.scope.get("headers", []))
        token = bearer(headers.get(b"authorization", b"").decode("latin-1"))
        if token is None:
            await self.close(code=CLOSE_UNAUTHORIZED, reason="send 'Authorization: Bearer <token>'")
            return
        try:
            identity = await find_identity(store.get_redis(), token)
        except RedisError:
            await self.close(code=CLOSE_TRY_AGAIN, reason="live state store unreachable")
            return
        if identity is None:
            await self.close(code=CLOSE_FORBIDDEN, reason="token not accepted")
            return
        if not await self.join(control_plane.encoder_group(identity.name)):
            return
        self.token, self.identity = token, identity
        await control_plane.connected_again(identity.name, joined=self.joined)

    async def disconnect(self, code: int) -> None:
        if self.identity is None:
            return
        if self.last_accepted:
            # Operators see the encoder gone at once, not after the grace; unless
            # it already reports over a newer connection.
            with contextlib.suppress(Refused, RedisError):
                await disconnect(store.get_redis(), identity=self.identity, now=time.time(), since=self.last_accepted)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.identity is None:
            return  # closing already
        frame = text_data.encode() if text_data is not None else bytes_data
        if len(frame) > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG, reason=f"frames are at most {MAX_FRAME_BYTES} bytes")
            return
        try:
            beat = parse_heartbeat(decode_json(frame))
            now = time.time()
            await ingest(store.get_redis(), token=self.token, beat=beat, now=now)
        except InvalidField as exc:
            await self.refuse(Refused(400, "invalid", exc.message, exc.field))
            return
        except Refused as refused:
            await self.refuse(refused)
            return
        except RedisError:
            # Like HTTP's 503: the encoder retries, over a new connection, later.
            await self.push(
                json.dumps({"ok": False, "error": "unavailable", "message": "retry shortly", "field": None})
            )
            await self.close(code=CLOSE_TRY_AGAIN, reason="live state store unreachable")
            return
        self.bad_frames = 0
        self.last_accepted = now
        await self.push(json.dumps({"ok": True, "next": beat.interval}))

    async def refuse(self, refused: Refused) -> None:
        answer = {"ok": False, "error": refused.error, "message": refused.message, "field": refused.field}
        await self.push(json.dumps(answer))
        if refused.status == 429:
            await self.close(code=CLOSE_RATE_LIMITED, reason=refused.message)
        elif refused.status == 403:
            await self.close(code=CLOSE_FORBIDDEN, reason=refused.message)
        else:
            self.bad_frames += 1
            if self.bad_frames >= MAX_BAD_FRAMES:
                await self.close(code=CLOSE_BAD_MESSAGE, reason=f"{MAX_BAD_FRAMES} bad frames in a row")
