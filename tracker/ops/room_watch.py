"""The worker's judgement of every room, each second (tracker.live.room_state).

From the encoders' records, the programme's now/next and the audience the
worker has just added up, each room gets its state. Operators get every
room's state with its evidence (one versioned `rooms` message when
something changed); a change of state is appended to the room's log in the
same step, where the alerts read it (room-level alerts, tracker.ops.alerts);
viewers get what they need of it as the room's `judged` attribute (a room
version only when that changes).
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from tracker.config import get_config
from tracker.encoders import store
from tracker.encoders.state_machine import Record
from tracker.live import audience, room_state


async def read_nownext(redis: Redis, rooms: list[str]) -> dict[str, Any]:
    async with redis.pipeline(transaction=False) as pipe:
        for room in rooms:
            pipe.hget(store.key("attrs", room), "nownext")
        values = await pipe.execute()
    return {
        room: store.readable(f"attrs/{room}/nownext", value, json.loads) if value else None
        for room, value in zip(rooms, values, strict=True)
    }


def judge(
    records: list[Record], nownext: dict[str, Any], totals: dict[str, Any], previous: dict[str, Any], *, now: float
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Every configured room's state, and the log entry of each room whose state changed."""
    config = get_config()
    states, changes = {}, {}
    for name, room in config.rooms.items():
        figures = totals.get(name, {})
        failing = audience.viewers_failing(
            figures,
            clients=room.setting("viewers-failing-clients", config.settings),
            percent=room.setting("viewers-failing-percent", config.settings),
        )
        verdict = room_state.room_state(
            [r for r in records if r.room == name],
            talk_on=room_state.talk_on(nownext.get(name)),
            viewers_failing=failing,
        )
        judged = previous.get(name)
        before: dict[str, Any] = judged if isinstance(judged, dict) else {}
        same = before.get("state") == verdict.state
        states[name] = {
            **verdict.to_dict(),
            "since": before.get("since", now) if same else now,
            # The evidence operators see: how many clients fail, with which format and error.
            "viewers": {key: figures.get(key, 0) for key in ("clients", "failing")}
            | {"evidence": figures.get("evidence", [])},
        }
        if not same and before:  # the first judgement after a start is no news
            changes[name] = {
                "kind": "room",
                "room": name,
                "old": before.get("state"),
                "new": str(verdict.state),
                "label": verdict.label,
                "severity": str(verdict.severity),
                "reasons": verdict.reasons,
                "at": now,
            }
    return states, changes


async def judge_rooms(redis: Redis, totals: dict[str, Any], *, now: float) -> dict[str, Any]:
    """Judge every room, store and push the states, log the changes; returns the states."""
    rooms = list(get_config().rooms)
    records = await store.read_records(redis)
    nownext = await read_nownext(redis, rooms)
    previous = await store.get_ops_state(redis, "rooms")
    states, changes = judge(records, nownext, totals, previous, now=now)
    await store.set_room_states(redis, states, changes, now=now)
    for name, state in states.items():
        # Unchanged, the script changes nothing and publishes nothing.
        await store.set_room_attr(redis, name, "judged", state["public"], default="")
    return states
