"""A frontend alone is ready while it can show rooms: its tracker answers,
or did lately (pages then show what it said last, and say how old that is)."""

from __future__ import annotations

import logging

from common.health import Findings

from . import tracker_api

logger = logging.getLogger(__name__)


async def frontend_readiness() -> tuple[Findings, Findings]:
    try:
        await tracker_api.room_list()
    except tracker_api.TrackerUnavailable as exc:
        logger.warning("not ready: tracker unreachable: %s", exc)
        return {"tracker": "unreachable"}, {}
    if (age := tracker_api.room_list_age()) > 2 * tracker_api.ROOM_LIST_SECONDS:
        return {}, {"tracker": f"unreachable: pages show what it said {age:.0f} s ago"}
    return {}, {}
