"""Viewers' "report a problem" messages: checked, budgeted, merged per client,
kept per room, and pushed to operators (tracker.ops reads them page by page).

Nothing a viewer sends may decide what operators can see: every field is
bounded in bytes as JSON-escaped text (the largest it gets anywhere: a
character outside the Basic Multilingual Plane is 4 bytes in a frame, 12 once
escaped), one client's reports in a room merge into one with a count, a
client (an IPv4 address or an IPv6 /64) and a room each have a budget kept
in Redis (reconnecting resets nothing), and a room keeps only its latest
REPORTERS_KEPT reporters. Reports are never part of the operators' snapshot:
the snapshot carries each room's count, the dashboard asks for pages.

Layout, under settings.REDIS_PREFIX:
    <prefix>:reports:<room>            sorted set  reporter -> when they last reported
    <prefix>:reports:<room>:by         hash        reporter -> their merged report, JSON
                                                   (both: history-hours after the room's last report)
    <prefix>:budget:report:<client>    counter     a client's reports this window, every room
    <prefix>:budget:report-room:<room> hash        a room's token bucket (tokens, at)
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from redis.asyncio import Redis

from common.addresses import client_key
from tracker.config import get_config
from tracker.encoders import store
from tracker.safetext import escaped_bytes

# Distinct reporters kept per room, and shown per page on the dashboard.
REPORTERS_KEPT = 100
PAGE_SIZE = 20
# What identifies one browser tab (its reconnects count once).
TAB = re.compile(r"^[A-Za-z0-9_-]{8,64}\Z")
# Viewer report fields and their largest accepted size, in bytes of escaped JSON.
REPORT_FIELDS = {"format": 16, "endpoint": 2048, "error": 300, "browser": 300, "text": 1000}
# A stored report as sent to operators, whatever its fields hold: the fields at
# their caps, the room and tab, the count and times, and the keys' names.
MAX_REPORT_BYTES = sum(REPORT_FIELDS.values()) + 512
# One client's reports, every room together, per window; a room's, at once and then per second.
CLIENT_REPORTS, CLIENT_WINDOW_SECONDS = 5, 10 * 60
ROOM_BURST, ROOM_REPORTS_PER_SECOND = 30, 1

REPORT_LUA = store.load_script("report")


class Refused(ValueError):
    """A viewer's report that cannot be taken, in words for them."""


def parse_report(request: dict[str, Any]) -> dict[str, Any]:
    """A viewer's problem report, checked field by field; raises Refused."""
    room, tab = request.get("room"), request.get("tab")
    if not isinstance(room, str) or room not in get_config().rooms:
        raise Refused("room: not a configured room")
    if not isinstance(tab, str) or not TAB.match(tab):
        raise Refused("tab: 8-64 letters, digits, '_' or '-'")
    report: dict[str, Any] = {"room": room, "tab": tab}
    for name, limit in REPORT_FIELDS.items():
        value = request.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str) or escaped_bytes(value) > limit:
            raise Refused(f"{name}: a string of at most {limit} bytes (escaped as JSON)")
        report[name] = value.strip()
    return report


def reporter(address: str) -> str:
    """Who a report is from, as operators see it: the client (address or /64) hashed, never the address."""
    return hashlib.sha256(client_key(address).encode()).hexdigest()[:16]


async def add_report(redis: Redis, report: dict[str, Any], *, address: str, now: float) -> int:
    """Take a report from the client at `address`: the ops feed's version, or 0 when a budget is spent."""
    room = report["room"]
    version = await REPORT_LUA(
        keys=[
            store.key("reports", room),
            store.key("reports", room, "by"),
            store.key("budget", "report", client_key(address)),
            store.key("budget", "report-room", room),
            store.key("ops", "version"),
        ],
        args=[
            reporter(address),
            json.dumps(report),
            now,
            REPORTERS_KEPT,
            CLIENT_REPORTS,
            CLIENT_WINDOW_SECONDS * 1000,
            ROOM_BURST,
            ROOM_REPORTS_PER_SECOND,
            store.ops_channel(),
            store.history_hours() * 3600,
        ],
        client=redis,
    )
    return max(0, int(version))


async def report_counts(redis: Redis, rooms: list[str]) -> dict[str, int]:
    """How many distinct clients each room keeps reports from."""
    async with redis.pipeline(transaction=False) as pipe:
        for room in rooms:
            pipe.zcard(store.key("reports", room))
        counts = await pipe.execute()
    return dict(zip(rooms, counts, strict=True))


async def read_page(redis: Redis, room: str, *, offset: int = 0) -> list[list[Any]]:
    """One page of a room's reports, latest first, as [reporter, report]."""
    reporters = await redis.zrevrange(store.key("reports", room), offset, offset + PAGE_SIZE - 1)
    if not reporters:
        return []
    texts = await redis.hmget(store.key("reports", room, "by"), reporters)
    return [[who, json.loads(text)] for who, text in zip(reporters, texts, strict=True) if text]


async def recent_reporters(redis: Redis, room: str, *, since: float) -> int:
    """How many distinct clients reported a problem in `room` since `since` (each counts once)."""
    return int(await redis.zcount(store.key("reports", room), since, "+inf"))
