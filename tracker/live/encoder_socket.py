"""/tracker/ws/encoder/: the encoders' socket."""

from __future__ import annotations

import contextlib
import json
import logging
import time

from redis.exceptions import RedisError

from common.addresses import scope_address
from tracker import socket_orders
from tracker.encoders import client_budget, store
from tracker.encoders.heartbeat import InvalidField, bearer, decode_json, parse_heartbeat
from tracker.encoders.identities import find_identity
from tracker.encoders.ingest import Refused, disconnect, ingest
from tracker.encoders.state_machine import Identity
from tracker.live.draining import CLOSE_RESTARTING, draining
from tracker.live.draining import REASON as DRAINING_REASON
from tracker.live.hub import get_hub
from tracker.live.sockets import (
    CLOSE_BAD_MESSAGE,
    CLOSE_FORBIDDEN,
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    ControlledConsumer,
)

logger = logging.getLogger(__name__)

# What one encoder frame may weigh.
MAX_FRAME_BYTES = 64 * 1024
# Consecutive bad frames an encoder may send before it is disconnected.
MAX_BAD_FRAMES = 5


class EncoderConsumer(ControlledConsumer):
    """/tracker/ws/encoder/: heartbeats as frames, each answered with an ack.

    One socket per encoder: a newer connection closes the older one (4409),
    say a link the agent gave up on that the server still holds, once the
    newer one had a heartbeat accepted: a leaked token that only connects
    takes nothing over. A revoked token closes it (4403,
    tracker.encoders.identities). A process that stops tells it to
    reconnect elsewhere (4503, tracker.live.draining).
    """

    token: str | None = None
    identity: Identity | None = None
    bad_frames = 0
    # When this socket last had a heartbeat accepted (0: never).
    last_accepted = 0.0

    async def connect(self) -> None:
        await self.accept()
        if draining():
            await self.close(code=CLOSE_RESTARTING, reason=DRAINING_REASON)
            return
        redis, address = store.get_redis(), scope_address(self.scope)
        headers = dict(self.scope.get("headers", []))
        token = bearer(headers.get(b"authorization", b"").decode("latin-1"))
        try:
            if await client_budget.exhausted(redis, "encoder-socket", address):
                await self.close(code=CLOSE_RATE_LIMITED, reason="too many refused connections from here; wait")
                return
            identity = None if token is None else await find_identity(redis, token)
            if identity is None:
                await client_budget.count_refusal(redis, "encoder-socket", address)
        except RedisError:
            await self.close(code=CLOSE_TRY_AGAIN, reason="live state store unreachable")
            return
        if token is None:
            await self.close(code=CLOSE_UNAUTHORIZED, reason="send 'Authorization: Bearer <token>'")
            return
        if identity is None:
            await self.close(code=CLOSE_FORBIDDEN, reason="token not accepted")
            return
        if not await self.join(socket_orders.encoder_group(identity.name)):
            return
        self.token, self.identity = token, identity
        get_hub().encoder_sockets.add(self)

    async def disconnect(self, code: int) -> None:
        get_hub().encoder_sockets.discard(self)
        if self.identity is None:
            return
        if self.last_accepted:
            # Operators see the encoder gone at once, not after the grace; unless
            # it already reports over a newer connection.
            with contextlib.suppress(Refused, RedisError):
                await disconnect(store.get_redis(), identity=self.identity, now=time.time(), since=self.last_accepted)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.identity is None or self.token is None:
            return  # closing already
        frame = text_data.encode() if text_data is not None else bytes_data or b""
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
        first = not self.last_accepted
        self.last_accepted = now
        await self.push(json.dumps({"ok": True, "next": beat.interval}))
        if first:  # proven to be the encoder: older sockets of its token close now
            await socket_orders.connected_again(self.identity.name, joined=self.joined)

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
