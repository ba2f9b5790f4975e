"""Planned maintenance: time ranges, per room or per encoder, that silence alerts ahead of time.

A silence (tracker.ops.actions) starts now; a maintenance window is planned:
the nights of a conference, a break, a rehearsal tomorrow at 9. Alerts for
transitions inside a window are not sent (tracker.ops.alerts), nor the
recovery that ends them, exactly as for a silence.

Windows come from two places: the config (`maintenance`, read-only here)
and operators on the dashboard (stored in Redis, added and removed by id).
Stored windows are dropped once they ended, and there are at most
MAX_WINDOWS of them, so the hash stays small.

Layout, under settings.REDIS_PREFIX:
    <prefix>:ops:maintenance   hash   <id> -> {"room", "encoder", "from", "to", "reason", "by", "at"} JSON
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from redis.asyncio import Redis

from tracker.config import get_config, local_time
from tracker.encoders import store
from tracker.encoders.heartbeat import ENCODER_NAME
from tracker.ops.actions import Refused

MAX_WINDOWS = 100
MAX_DAYS = 14
MAX_REASON_CHARACTERS = 200


def configured() -> list[dict[str, Any]]:
    """The config's windows, with times as epoch seconds (the config checked them at load)."""
    config = get_config()
    windows = []
    for number, entry in enumerate(config.settings["maintenance"]):
        zone = config.rooms[entry["room"]].settings.get("schedule-timezone") or "UTC"
        windows.append(
            {
                "id": f"config-{number}",
                "room": entry["room"],
                "encoder": entry.get("encoder") or None,
                "from": local_time(entry["from"], zone),
                "to": local_time(entry["to"], zone),
                "reason": entry.get("reason", ""),
                "by": "config",
            }
        )
    return windows


async def stored(redis: Redis) -> list[dict[str, Any]]:
    entries = await redis.hgetall(store.key("ops", "maintenance"))
    windows = [store.readable(f"maintenance/{key}", text, json.loads) for key, text in entries.items()]
    return [window for window in windows if isinstance(window, dict)]


async def windows(redis: Redis, *, now: float) -> list[dict[str, Any]]:
    """Every window not yet over, configured and planned, soonest first."""
    rooms = get_config().rooms
    every = [*configured(), *await stored(redis)]
    return sorted(
        (window for window in every if window["to"] > now and window["room"] in rooms),
        key=lambda window: (window["from"], window["room"]),
    )


async def covering(redis: Redis, room: str, name: str | None, *, at: float) -> dict[str, Any] | None:
    """The window covering this encoder (or, with no name, the whole room) at `at`, or None."""
    for window in [*configured(), *await stored(redis)]:
        if window["room"] == room and window["encoder"] in (None, name) and window["from"] <= at < window["to"]:
            return window
    return None


async def plan(redis: Redis, request: dict[str, Any], *, by: str, now: float) -> dict[str, Any]:
    """Store an operator's window: room, encoder (optional), from and to (ISO, the room's zone), reason."""
    config = get_config()
    room = config.rooms.get(request.get("room"))  # type: ignore[arg-type]
    if room is None:
        raise Refused("room: not a configured room")
    encoder = request.get("encoder") or None
    if encoder is not None and (not isinstance(encoder, str) or not ENCODER_NAME.match(encoder)):
        raise Refused("encoder: 1-64 letters, digits, '.', '_' or '-', or empty for the whole room")
    zone = room.settings.get("schedule-timezone") or "UTC"
    times = {}
    for key in ("from", "to"):
        try:
            times[key] = local_time(request.get(key), zone)
        except ValueError:
            raise Refused(f"{key}: a date and time like 2026-12-06T22:00 ({zone})") from None
    if not now < times["to"] or not times["from"] < times["to"]:
        raise Refused("to: after from, and not in the past")
    if times["to"] - max(times["from"], now) > MAX_DAYS * 86400:
        raise Refused(f"to: at most {MAX_DAYS} days ahead")
    reason = request.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARACTERS:
        raise Refused(f"reason: at most {MAX_REASON_CHARACTERS} characters")
    key = store.key("ops", "maintenance")
    await forget_ended(redis, now=now)
    if await redis.hlen(key) >= MAX_WINDOWS:
        raise Refused(f"at most {MAX_WINDOWS} planned windows: remove one first")
    window = {
        "id": secrets.token_hex(6),
        "room": room.name,
        "encoder": encoder,
        **times,
        "reason": reason.strip(),
        "by": by,
        "at": now,
    }
    await redis.hset(key, window["id"], store.encode_json(window))
    return window


async def cancel(redis: Redis, window_id: Any) -> None:
    if not isinstance(window_id, str) or not await redis.hdel(store.key("ops", "maintenance"), window_id):
        raise Refused("id: no planned window with this id (windows from the config are changed there)")


async def forget_ended(redis: Redis, *, now: float) -> None:
    ended = [window["id"] for window in await stored(redis) if window["to"] <= now]
    if ended:
        await redis.hdel(store.key("ops", "maintenance"), *ended)
