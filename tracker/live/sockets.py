"""What every socket of ours shares: the Channels consumer loop without the database hop,
the direct frame writer, close codes, and the control plane's orders for one socket.

The consumers themselves, one per audience: tracker.live.viewer_socket,
tracker.live.encoder_socket, tracker.ops.operator_socket."""

from __future__ import annotations

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

from common.tasks import honour_lost_cancel
from tracker.encoders.heartbeat import InvalidField, decode_json
from tracker.live.daphne_sockets import DaphneSocket, Frame, own_inbox

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
PONG = json.dumps({"type": "pong"})


class DatabaseFreeConsumer(AsyncWebsocketConsumer):
    """A consumer that never touches the database.

    Channels 4.3 hops to Django's sync thread before every message to close
    stale database connections (`aclose_old_connections` in its dispatch);
    consumers without a database skip that hop, which halved the server CPU
    of a broadcast when measured on this project's 2-core machines.
    """

    channel_layer: Any = None  # ControlledConsumer's sockets join the layer; viewers' never do

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' consumer loop without its channel-layer half (viewers' sockets never join the layer).

        Channels waits on `receive` through a task and asyncio.wait so a layer
        could feed the same loop; held by every idle socket, those cost
        ~1.5 KB each (docs/performance.md). One await per message does the same here,
        from a lighter inbox than daphne's queue (tracker.live.daphne_sockets).
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
        # A cancel a library dropped inside the handler (its Redis calls: common/tasks.py)
        # ends the socket here; unnoticed, its task waited for a next message that never
        # came and held daphne's shutdown (SIGTERM) for minutes.
        honour_lost_cancel()

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer()

    async def push(self, text: str) -> None:
        await self.base_send({"type": "websocket.send", "text": text})

    writer: DaphneSocket | None = None

    def write(self, frame: Frame) -> bool:
        """Write a broadcast's frame at once if daphne's socket is at hand; False: push() it instead."""
        if self.writer is None or not self.writer.direct:
            return False
        self.writer(frame)
        return True

    # The types of message a client may send, each handled by the method named
    # in the map; a handler returns False when it refuses the message as malformed.
    HANDLERS: dict[str, str] = {}
    closing = False  # frames queued behind a close are not looked at

    async def close_once(self, code: int, reason: str) -> None:
        self.closing = True
        await self.close(code=code, reason=reason)

    async def handle(self, request: dict[str, Any]) -> None:
        """Hand a client's message to the handler of its type; 4400 naming the types when none takes it."""
        kind = request.get("type")
        name = self.HANDLERS.get(kind) if isinstance(kind, str) else None
        if name is None or await getattr(self, name)(request) is False:
            await self.close_once(CLOSE_BAD_MESSAGE, f"expected a message of type {', '.join(self.HANDLERS)}")

    @staticmethod
    def client_request(text_data: str | None) -> dict[str, Any]:
        """A client's JSON object, or {} for anything else."""
        try:
            request = decode_json(text_data or "")
        except InvalidField:
            return {}
        return request if isinstance(request, dict) else {}


class ControlledConsumer(DatabaseFreeConsumer):
    """A socket the control plane can close (tracker.socket_orders): an encoder's or an operator's.

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
        honour_lost_cancel()  # as in dispatch: the subscription is a Redis call
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
