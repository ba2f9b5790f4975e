"""/ws/ops/: the operators' socket."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from redis.exceptions import RedisError

from tracker import socket_orders
from tracker.config import get_config
from tracker.encoders import store
from tracker.live import viewer_reports
from tracker.live.budgets import FrameBudget, address_limits, too_big
from tracker.live.hub import get_hub
from tracker.live.sockets import (
    CLOSE_BAD_MESSAGE,
    CLOSE_FORBIDDEN,
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    PONG,
    ControlledConsumer,
)
from tracker.ops import actions
from tracker.ops.snapshot import ops_snapshot

logger = logging.getLogger(__name__)

# An operator's frames: a note is the largest (actions.MAX_NOTE_BYTES, escaped) with its names.
MAX_FRAME_BYTES = 2 * 1024
# Clicks and the page's pings and page requests: a few a second, a burst when a room's reports open.
FRAMES_PER_SECOND, BURST = 5, 20
# One operator's sockets in one web process: a screen per room is a handful.
SOCKETS_PER_OPERATOR = 10


class OpsConsumer(ControlledConsumer):
    """/ws/ops/: every encoder record and transition, for logged-in operators.

    Operators may send {"type": "snapshot"}, or act (tracker.ops.actions):
      {"type": "ack", "room": R, "name": E} to say they are on E's problem;
      {"type": "silence", "room": R, ["name": E,] "minutes": M} (0 ends it);
      {"type": "note", "room": R, "name": E, "text": T} ("" removes it);
      {"type": "message", "room": R, "text": T} a message to R's viewers ("" clears it).
    {"type": "reports", "room": R, "offset": N} is answered with one page of
    R's viewer reports, latest first: {"type": "reports", "room": R,
    "offset": N, "total": T, "entries": [[reporter, report], ...]}.
    Frames are at most MAX_FRAME_BYTES (else 4413) and FRAMES_PER_SECOND on
    average (else 4429).
    A refused action is answered {"type": "refused", "message": ...} (no
    version: it is for this socket only); done ones reach every operator.
    {"type": "ping"} is answered {"type": "pong"}: a quiet feed and a dead
    connection look alike to a browser until it asks.
    """

    pending: list[tuple[int | None, str]] | None = None
    resyncing: asyncio.Lock

    budget: FrameBudget
    holder = ""  # what its share of sockets is counted under
    HANDLERS = {
        "snapshot": "snapshot",
        "ping": "ping",
        "reports": "reports_page",
        **{kind: "act" for kind in actions.OPERATOR_ACTIONS},
    }

    async def connect(self) -> None:
        await self.accept()
        self.budget = FrameBudget(time.monotonic(), rate=FRAMES_PER_SECOND, burst=BURST)
        self.resyncing = asyncio.Lock()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHORIZED, reason="log in at /tracker/login/ first")
            return
        if not user.is_staff:
            await self.close(code=CLOSE_FORBIDDEN, reason="operators only: ask an admin to make you staff")
            return
        self.holder = f"operator:{user.pk}"
        if not address_limits().admit(self.holder, self, limit=SOCKETS_PER_OPERATOR):
            await self.close_once(CLOSE_RATE_LIMITED, f"at most {SOCKETS_PER_OPERATOR} dashboards per operator here")
            return
        # Logging out, deactivation or a new password close it (tracker.ops.accounts).
        if await self.join(socket_orders.operator_group(user.pk)):
            await get_hub().join_ops(self)
            await self.resync()

    async def disconnect(self, code: int) -> None:
        if self.holder:
            address_limits().release(self.holder, self)
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

    async def close_once(self, code: int, reason: str) -> None:
        logger.info("operator socket closed %d: %s", code, reason)
        await super().close_once(code, reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        if too_big(text_data, bytes_data, MAX_FRAME_BYTES):
            await self.close_once(CLOSE_TOO_BIG, f"frames are at most {MAX_FRAME_BYTES} bytes")
            return
        if not self.budget.spend(time.monotonic()):
            await self.close_once(CLOSE_RATE_LIMITED, f"at most {FRAMES_PER_SECOND} frames per second")
            return
        await self.handle(self.client_request(text_data))

    async def snapshot(self, request: dict[str, Any]) -> None:
        await self.resync()

    async def ping(self, request: dict[str, Any]) -> None:
        await self.push(PONG)

    async def reports_page(self, request: dict[str, Any]) -> None:
        room, offset = request.get("room"), request.get("offset", 0)
        if not isinstance(room, str) or room not in get_config().rooms:
            await self.close_once(CLOSE_BAD_MESSAGE, "room: not a configured room")
            return
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < viewer_reports.REPORTERS_KEPT:
            await self.close_once(CLOSE_BAD_MESSAGE, f"offset: a whole number below {viewer_reports.REPORTERS_KEPT}")
            return
        redis = store.get_redis()
        try:
            entries = await viewer_reports.read_page(redis, room, offset=offset)
            total = (await viewer_reports.report_counts(redis, [room]))[room]
        except RedisError:
            await self.push(json.dumps({"type": "refused", "message": "live state store unreachable; try again"}))
            return
        page = {"type": "reports", "room": room, "offset": offset, "total": total, "entries": entries}
        await self.push(json.dumps(page))

    async def act(self, request: dict[str, Any]) -> None:
        action = actions.OPERATOR_ACTIONS[request["type"]]
        try:
            await action(store.get_redis(), request, by=self.scope["user"].get_username(), now=time.time())
        except actions.Refused as exc:
            await self.push(json.dumps({"type": "refused", "message": str(exc)}))
        except RedisError:
            await self.push(json.dumps({"type": "refused", "message": "live state store unreachable; try again"}))
