"""Viewers' "report a problem" messages: checked, kept per room in a short
stream, and pushed to operators (tracker.ops reads them with its controls).

Layout, under settings.REDIS_PREFIX:
    <prefix>:reports:<room>    stream  viewer reports, the latest REPORTS_KEPT
"""

from __future__ import annotations

import re
from typing import Any

from redis.asyncio import Redis

from tracker.config import get_config
from tracker.encoders import store

REPORTS_KEPT = 100
# What identifies one browser tab (its reconnects count once).
TAB = re.compile(r"^[A-Za-z0-9_-]{8,64}\Z")
# Viewer report fields and their longest accepted length.
REPORT_FIELDS = {"format": 16, "endpoint": 2048, "error": 300, "browser": 300, "text": 1000}

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
        if not isinstance(value, str) or len(value) > limit:
            raise Refused(f"{name}: a string of at most {limit} characters")
        report[name] = value.strip()
    return report


async def add_report(redis: Redis, report: dict[str, Any], *, now: float) -> int:
    return await REPORT_LUA(
        keys=[store.key("reports", report["room"]), store.key("ops", "version")],
        args=[store.encode_json({**report, "at": now}), REPORTS_KEPT, store.ops_channel()],
        client=redis,
    )
