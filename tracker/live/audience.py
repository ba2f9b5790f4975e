"""Viewer counts and playback health, from every web process to one figure per room.

Each web process counts the browser tabs watching each room on its own
sockets (a tab that reconnects is the same tab) and writes its counts to one
Redis hash every second. The worker adds the processes up, drops processes
that stopped reporting, and stores each room's count (no version, no
message: the web processes pass changed counts on every few seconds, see
tracker.live.hub) and the audience for operators (pushed when it changed,
without a version: operators' versions are for what changes state).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from typing import Any

from redis.asyncio import Redis

from tracker.encoders import store

PLAYBACK_STATES = ("playing", "buffering", "error", "paused")
# A process that has not reported for this long is gone; its viewers too.
STALE_SECONDS = 15


def process_counts(tabs: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """One process's figures from room -> {tab: playback state}."""
    return {
        room: {"viewers": len(states), "health": dict(Counter(s for s in states.values() if s))}
        for room, states in tabs.items()
        if states
    }


async def report_process(redis: Redis, process: str, counts: dict[str, dict[str, Any]], *, now: float) -> None:
    await redis.hset(store.key("audience"), process, json.dumps({"at": now, "rooms": counts}))


async def withdraw_process(redis: Redis, process: str) -> None:
    """Forget a stopping process's counts at once, not after STALE_SECONDS: its viewers would count twice."""
    await redis.hdel(store.key("audience"), process)


def combine(reports: dict[str, str], rooms: list[str], *, now: float) -> tuple[dict[str, Any], list[str]]:
    """Sum fresh process reports per room; also returns the stale processes."""
    totals: dict[str, dict[str, Any]] = {room: {"viewers": 0, "health": defaultdict(int)} for room in rooms}
    stale = []
    for process, text in reports.items():
        report = store.readable(f"{store.key('audience')}/{process}", text, read_report)
        if report is None or now - report["at"] > STALE_SECONDS:
            stale.append(process)  # an unreadable report is dropped like a stale one
            continue
        for room, figures in report["rooms"].items():
            if room in totals:
                totals[room]["viewers"] += figures["viewers"]
                for state, count in figures["health"].items():
                    totals[room]["health"][state] += count
    return {room: {"viewers": t["viewers"], "health": dict(t["health"])} for room, t in totals.items()}, stale


def read_report(text: str) -> dict[str, Any]:
    """A process's report, checked to be what report_process writes."""
    report = json.loads(text)
    if not isinstance(report["at"], (int, float)):
        raise ValueError("no time")
    for figures in report["rooms"].values():
        if not isinstance(figures["viewers"], int) or not all(isinstance(n, int) for n in figures["health"].values()):
            raise ValueError("counts are not integers")
    return report


async def publish_totals(redis: Redis, rooms: list[str], *, now: float | None = None) -> dict[str, Any]:
    """Store the viewer counts for viewers' pages and push the audience to operators."""
    now = time.time() if now is None else now
    totals, stale = combine(await redis.hgetall(store.key("audience")), rooms, now=now)
    if stale:
        await redis.hdel(store.key("audience"), *stale)
    await store.set_viewer_counts(redis, {room: figures["viewers"] for room, figures in totals.items()})
    # A figure, not a state change: no ops version (its dashboard takes the newest).
    await store.set_ops_state(redis, "audience", totals, versioned=False)
    return totals
