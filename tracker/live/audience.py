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
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from tracker.encoders import store

PLAYBACK_STATES = ("playing", "buffering", "error", "paused")
# A process that has not reported for this long is gone; its viewers too.
STALE_SECONDS = 15
# Failing clients named with their evidence per room and process (the count has them all).
EVIDENCE_KEPT = 20
# What a failing client's evidence may hold (format and error come from the browser).
FORMAT_CHARACTERS, ERROR_CHARACTERS = 16, 120


@dataclass
class Tab:
    """One browser tab watching a room on this process's sockets."""

    room: str
    tab: str
    address: str
    state: str = ""  # its latest playback state, "" before the first
    format: str = ""
    error: str = ""
    failed_at: float = float("-inf")  # its player's last error, or its viewer's last report

    def failed(self, *, format: str, error: str, now: float) -> None:
        self.format, self.error, self.failed_at = format[:FORMAT_CHARACTERS], error[:ERROR_CHARACTERS], now

    def failing(self, *, now: float, window: float) -> bool:
        """In error now, or failed within the window and not playing since (a player that recovered clears it)."""
        return self.state == "error" or (now - self.failed_at <= window and self.state != "playing")


def process_counts(tabs: list[Tab], *, now: float, windows: dict[str, float]) -> dict[str, dict[str, Any]]:
    """One process's figures per room: tabs, playback health, and the clients
    (distinct addresses, however many tabs each) that report and that fail."""
    by_room: dict[str, list[Tab]] = defaultdict(list)
    for tab in tabs:
        by_room[tab.room].append(tab)
    counts = {}
    for room, watching in by_room.items():
        window = windows.get(room, 30.0)
        failing: dict[str, dict[str, Any]] = {}
        for tab in watching:
            if tab.failing(now=now, window=window):
                evidence = failing.setdefault(tab.address, {"tabs": 0, "format": tab.format, "error": tab.error})
                evidence["tabs"] += 1
        counts[room] = {
            "viewers": len({tab.tab for tab in watching}),
            "health": dict(Counter(tab.state for tab in {t.tab: t for t in watching}.values() if tab.state)),
            "clients": len({tab.address for tab in watching if tab.state or tab.failed_at > float("-inf")}),
            "failing": len(failing),
            # Addresses are counted here and go no further: operators need the formats and errors.
            "evidence": [e for _, e in sorted(failing.items())[:EVIDENCE_KEPT]],
        }
    return counts


def viewers_failing(figures: dict[str, Any], *, clients: int, percent: int) -> bool:
    """Enough distinct clients fail: `clients` of them, or `percent` of those
    reporting (never one address alone, however many tabs it opened)."""
    failing, reporting = figures.get("failing", 0), figures.get("clients", 0)
    return failing >= clients or (failing >= 2 and failing * 100 >= percent * reporting)


async def report_process(redis: Redis, process: str, counts: dict[str, dict[str, Any]], *, now: float) -> None:
    await redis.hset(store.key("audience"), process, json.dumps({"at": now, "rooms": counts}))


async def withdraw_process(redis: Redis, process: str) -> None:
    """Forget a stopping process's counts at once, not after STALE_SECONDS: its viewers would count twice."""
    await redis.hdel(store.key("audience"), process)


def combine(reports: dict[str, str], rooms: list[str], *, now: float) -> tuple[dict[str, Any], list[str]]:
    """Sum fresh process reports per room; also returns the stale processes."""
    totals: dict[str, dict[str, Any]] = {
        room: {"viewers": 0, "health": defaultdict(int), "clients": 0, "failing": 0, "evidence": []} for room in rooms
    }
    stale = []
    for process, text in reports.items():
        report = store.readable(f"{store.key('audience')}/{process}", text, read_report)
        if report is None or now - report["at"] > STALE_SECONDS:
            stale.append(process)  # an unreadable report is dropped like a stale one
            continue
        for room, figures in report["rooms"].items():
            if room in totals:
                total = totals[room]
                total["viewers"] += figures["viewers"]
                for state, count in figures["health"].items():
                    total["health"][state] += count
                # An address on two processes counts twice: rare (a reconnect lands elsewhere), and brief.
                for name in ("clients", "failing"):
                    total[name] += figures.get(name, 0)
                total["evidence"] = (total["evidence"] + figures.get("evidence", []))[:EVIDENCE_KEPT]
    return {room: {**t, "health": dict(t["health"])} for room, t in totals.items()}, stale


def read_report(text: str) -> dict[str, Any]:
    """A process's report, checked to be what report_process writes."""
    report = json.loads(text)
    if not isinstance(report["at"], (int, float)):
        raise ValueError("no time")
    for figures in report["rooms"].values():
        if not isinstance(figures["viewers"], int) or not all(isinstance(n, int) for n in figures["health"].values()):
            raise ValueError("counts are not integers")
        if not all(isinstance(figures.get(name, 0), int) for name in ("clients", "failing")):
            raise ValueError("counts are not integers")
        if not isinstance(figures.get("evidence", []), list):
            raise ValueError("evidence is not a list")
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
