"""/ws/ops/: the operators' socket."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from redis.exceptions import RedisError

from tracker import socket_orders
from tracker.encoders import store
from tracker.live.hub import get_hub
from tracker.live.sockets import (
    CLOSE_BAD_MESSAGE,
    CLOSE_FORBIDDEN,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    PONG,
    ControlledConsumer,
)
from tracker.ops import actions
from tracker.ops.snapshot import ops_snapshot

logger = logging.getLogger(__name__)


class OpsConsumer(ControlledConsumer):
    """/ws/ops/: every encoder record and transition, for logged-in operators.

    Operators may send {"type": "snapshot"}, or act (tracker.ops.actions):
      {"type": "ack", "room": R, "name": E} to say they are on E's problem;
      {"type": "silence", "room": R, ["name": E,] "minutes": M} (0 ends it);
      {"type": "note", "room": R, "name": E, "text": T} ("" removes it);
      {"type": "message", "room": R, "text": T} a message to R's viewers ("" clears it).
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
        # Logging out, deactivation or a new password close it (tracker.ops.accounts).
        if await self.join(socket_orders.operator_group(user.pk)):
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
        elif kind in actions.OPERATOR_ACTIONS:
            await self.act(kind, request)
        else:
            await self.close(code=CLOSE_BAD_MESSAGE, reason="expected a snapshot, ping, ack, silence, note or message")

    async def act(self, kind: str, request: dict[str, Any]) -> None:
        action = actions.OPERATOR_ACTIONS[kind]
        try:
            await action(store.get_redis(), request, by=self.scope["user"].get_username(), now=time.time())
        except actions.Refused as exc:
            await self.push(json.dumps({"type": "refused", "message": str(exc)}))
        except RedisError:
            await self.push(json.dumps({"type": "refused", "message": "live state store unreachable; try again"}))
