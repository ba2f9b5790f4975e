"""/ws/live/: the viewers' socket."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from redis.exceptions import RedisError

from common.addresses import is_venue, scope_address
from tracker.config import get_config
from tracker.encoders import store
from tracker.live import viewer_reports
from tracker.live.audience import PLAYBACK_STATES
from tracker.live.budgets import FRAMES_PER_SECOND, FrameBudget, address_limits, too_big
from tracker.live.budgets import MAX_FRAME_BYTES as MAX_VIEWER_FRAME_BYTES
from tracker.live.daphne_sockets import Frame, direct_writer
from tracker.live.draining import CLOSE_RESTARTING, draining
from tracker.live.draining import REASON as DRAINING_REASON
from tracker.live.hub import EVERY_ROOM, get_hub
from tracker.live.sockets import CLOSE_BAD_MESSAGE, CLOSE_RATE_LIMITED, DatabaseFreeConsumer

logger = logging.getLogger(__name__)

# A viewer may report a problem this often per socket; more are dropped.
REPORT_SECONDS = 10
# A quiet page's ping (frontend feed.js sends exactly this text) and its answer, made once.
PING = '{"type":"ping"}'
PONG = '{"type":"pong"}'
PONG_FRAME = Frame(PONG)


class LiveConsumer(DatabaseFreeConsumer):
    """/ws/live/: a snapshot of every room, then each change, all versioned;
    and every few seconds, unversioned, the changed viewer counts the page shows.

    Clients may send:
      {"type": "snapshot"} whenever they see a version gap;
      {"type":"ping"} when their feed was quiet a while, answered {"type":"pong"};
      {"type": "watch", "room": R, "tab": T} to count as a viewer of R (T
        identifies the browser tab, so its reconnects count once) and get R's count;
      {"type": "viewers", "room": R} to get R's viewer count without being
        counted, or {"type": "viewers"} for every room's;
      {"type": "health", "state": S, "format": F, "error": E} how playback goes
        (S is playing, buffering, error or paused; with an error, the format
        and the player's words), aggregated per room for operators: enough
        distinct clients failing make the room's viewers failing;
      {"type": "report", "room": R, "tab": T, "format", "endpoint", "error",
        "browser", "text"} a viewer's "report a problem", for operators.
    Within budgets (tracker.live.budgets): frames per second and bytes per frame,
    sockets and counted tabs per client address.
    """

    last_health = last_snapshot = last_report = 0.0
    address = ""
    HANDLERS = {"snapshot": "snapshot", "watch": "watch", "viewers": "viewers", "health": "health", "report": "report"}
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

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        if too_big(text_data, bytes_data):
            await self.close_once(CLOSE_RATE_LIMITED, f"frames are at most {MAX_VIEWER_FRAME_BYTES} bytes")
            return
        if not self.budget.spend(time.monotonic()):
            await self.close_once(CLOSE_RATE_LIMITED, f"at most {FRAMES_PER_SECOND} frames per second")
            return
        if text_data == PING:  # a quiet page asking whether we are there: answered without parsing
            if not self.write(PONG_FRAME):
                await self.push(PONG)
            return
        await self.handle(self.client_request(text_data))

    async def snapshot(self, request: dict[str, Any]) -> None:
        # A snapshot is every room: one per second per socket is plenty.
        if time.monotonic() - self.last_snapshot >= 1:
            self.last_snapshot = time.monotonic()
            await self.push(get_hub().snapshot_text())

    async def watch(self, request: dict[str, Any]) -> bool:
        room, tab = request.get("room"), request.get("tab")
        if not (isinstance(room, str) and room in get_config().rooms and isinstance(tab, str)):
            return False
        if not viewer_reports.TAB.match(tab):
            return False
        # Beyond its address's share of tabs the socket still gets every change, but is not counted.
        limit = get_config().settings["viewer-tabs-per-address"]
        if self.exempt or address_limits().count_tab(self.address, self, room, tab, limit=limit):
            get_hub().watch(self, room, tab, self.address)
        return True

    async def viewers(self, request: dict[str, Any]) -> bool:
        room = request.get("room")
        if not (room is None or (isinstance(room, str) and room in get_config().rooms)):
            return False
        get_hub().follow(self, EVERY_ROOM if room is None else room)
        return True

    async def health(self, request: dict[str, Any]) -> bool:
        if request.get("state") not in PLAYBACK_STATES:
            return False
        # Clients report every 30 s at most; a flood changes nothing, and one client counts once.
        watched = get_hub().watching.get(self)
        counts = self.exempt or (
            watched is not None and address_limits().counts_health(self.address, self, watched.room)
        )
        if counts and time.monotonic() - self.last_health >= 1:
            self.last_health = time.monotonic()
            get_hub().playback(self, request["state"], **evidence(request))
        return True

    async def report(self, request: dict[str, Any]) -> None:
        try:
            report = viewer_reports.parse_report(request)
        except viewer_reports.Refused as exc:
            await self.close_once(CLOSE_BAD_MESSAGE, str(exc))
            return
        if time.monotonic() - self.last_report < REPORT_SECONDS:
            return  # one person reports once; a loop of reports is noise
        self.last_report = time.monotonic()
        get_hub().reported(self, format=report["format"], error=report["error"] or report["text"])
        with contextlib.suppress(RedisError):  # a lost report is no reason to drop the viewer
            await viewer_reports.add_report(store.get_redis(), report, address=self.address, now=time.time())


def evidence(request: dict[str, Any]) -> dict[str, str]:
    """The format and error a health message names, cut to what the audience keeps (never refused: it is a figure)."""
    return {name: value if isinstance(value := request.get(name), str) else "" for name in ("format", "error")}
