"""What the operators' dashboard is sent when it connects."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from tracker.config import get_config
from tracker.encoders import history, store
from tracker.live import viewer_reports
from tracker.ops import actions, setup_checks

logger = logging.getLogger(__name__)

SPARKLINE_SECONDS = 10 * 60
# Room settings the dashboard checks on screen (a preview that does not load).
ROOM_SETTINGS_SHOWN = ("preview", "schedule", "schedule-key")
# Daphne closes a socket (1011) rather than send a message over 1 MiB; the
# snapshot stays well under, whatever the stores hold (see fit()).
MAX_SNAPSHOT_BYTES = 768 * 1024
LOG_ENTRIES_WHEN_CUT = 5


async def ops_snapshot(redis: Redis, *, now: float) -> tuple[int, str]:
    """The operators' snapshot as (version, JSON text).

    Controls are read after the versioned part: a change made in between
    is in both and the browser applies it twice, which changes nothing
    (controls are set by field). Viewers' reports are not in it, only each
    room's count: the dashboard asks for them page by page
    (tracker.live.viewer_reports), so no viewer can make it large.
    """
    config = get_config()
    rooms = list(config.rooms)
    snapshot = await store.read_ops_snapshot(redis, rooms)
    members = [record.member for record in snapshot.records]
    sparklines = await history.encoder_series(redis, members, since=now - SPARKLINE_SECONDS)
    operator_controls = await actions.read_controls(redis, {*rooms, *members})
    message = {
        "type": "snapshot",
        "version": snapshot.version,
        "now": now,  # lets the browser correct its clock for "last seen"
        "rooms": [
            {"name": room.name, "title": room.title, **{k: room.settings.get(k, "") for k in ROOM_SETTINGS_SHOWN}}
            for room in config.rooms.values()
        ],
        "encoders": [dataclasses.asdict(record) for record in snapshot.records],
        "logs": snapshot.logs,
        "audience": snapshot.audience,
        "schedules": snapshot.schedules,
        "states": snapshot.states,
        "history": sparklines,
        "controls": operator_controls,
        "reports": await viewer_reports.report_counts(redis, rooms),
        "setup": setup_checks.config_problems(config) + await redis_problems(redis),
    }
    return snapshot.version, fit(message)


def fit(message: dict[str, Any]) -> str:
    """The snapshot as JSON of at most MAX_SNAPSHOT_BYTES, cut if it must be, and saying so.

    Everything in it is bounded by what writes it (heartbeats, notes, log
    entries), but not the number of encoders a room's token may create: past
    the limit, logs shrink and sparklines go first, then encoders are left out.
    """
    text = json.dumps(message)
    if len(text) <= MAX_SNAPSHOT_BYTES:
        return text
    logger.warning("operators' snapshot is %d bytes: sent cut to %d", len(text), MAX_SNAPSHOT_BYTES)
    message = {
        **message,
        "history": {},
        "logs": {room: entries[:LOG_ENTRIES_WHEN_CUT] for room, entries in message["logs"].items()},
    }
    encoders = message["encoders"]
    shown = len(encoders)
    while True:
        cut = shown < len(encoders)
        setup = message["setup"] + (
            [f"too many encoders to show: {len(encoders) - shown} of {len(encoders)} left out"] if cut else []
        )
        text = json.dumps({**message, "encoders": encoders[:shown], "setup": setup})
        if len(text) <= MAX_SNAPSHOT_BYTES or shown == 0:
            return text
        shown //= 2


async def redis_problems(redis: Redis) -> list[str]:
    """What is wrong with how Redis runs, in words for the operators."""
    problems = []
    try:  # one parameter per call: Redis before 7 takes no more
        persistence = {**await redis.config_get("appendonly"), **await redis.config_get("save")}
    except ResponseError:  # managed Redis services often refuse CONFIG: nothing to say then
        persistence = None
    if persistence is not None and persistence.get("appendonly") != "yes" and not persistence.get("save"):
        problems.append(
            "Redis keeps no data on disk (appendonly off, no save points): a Redis restart forgets every "
            "encoder's state, the logs, silences and notes"
        )
    return problems
