"""What the operators' dashboard is sent when it connects."""

from __future__ import annotations

import dataclasses
import json

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from tracker.config import get_config
from tracker.encoders import history, store
from tracker.ops import actions, setup_checks

SPARKLINE_SECONDS = 10 * 60
# Room settings the dashboard checks on screen (a preview that does not load).
ROOM_SETTINGS_SHOWN = ("preview", "schedule", "schedule-key")


async def ops_snapshot(redis: Redis, *, now: float) -> tuple[int, str]:
    """The operators' snapshot as (version, JSON text).

    Controls and reports are read after the versioned part: a change made in
    between is in both and the browser applies it twice, which changes
    nothing (controls are set by field, reports are kept by id).
    """
    config = get_config()
    snapshot = await store.read_ops_snapshot(redis, list(config.rooms))
    members = [record.member for record in snapshot.records]
    sparklines = await history.encoder_series(redis, members, since=now - SPARKLINE_SECONDS)
    operator_controls, reports = await actions.read_controls_and_reports(redis, list(config.rooms))
    text = json.dumps(
        {
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
            "reports": reports,
            "setup": setup_checks.config_problems(config) + await redis_problems(redis),
        }
    )
    return snapshot.version, text


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
