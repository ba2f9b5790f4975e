"""What the operators' dashboard is sent when it connects."""

from __future__ import annotations

import dataclasses
import json

from redis.asyncio import Redis

from . import history, store
from .config import get_config

SPARKLINE_SECONDS = 10 * 60


async def ops_snapshot(redis: Redis, *, now: float) -> tuple[int, str]:
    """The operators' snapshot as (version, JSON text)."""
    config = get_config()
    snapshot = await store.read_ops_snapshot(redis, list(config.rooms))
    members = [record.member for record in snapshot.records]
    sparklines = await history.encoder_series(redis, members, since=now - SPARKLINE_SECONDS)
    text = json.dumps(
        {
            "type": "snapshot",
            "version": snapshot.version,
            "now": now,  # lets the browser correct its clock for "last seen"
            "rooms": [{"name": room.name, "title": room.title} for room in config.rooms.values()],
            "encoders": [dataclasses.asdict(record) for record in snapshot.records],
            "logs": snapshot.logs,
            "audience": snapshot.audience,
            "schedules": snapshot.schedules,
            "history": sparklines,
        }
    )
    return snapshot.version, text
