"""What the public sees of a room, computed from the encoders' reports."""

from __future__ import annotations

from typing import Any

from .config import Room

Reports = dict[str, dict[str, Any]]  # encoder name -> its last report


def public_room(room: Room, reports: Reports) -> dict[str, Any]:
    """The room as viewers see it: live or not, totals, and what can be played."""
    streams = [stream for report in reports.values() for stream in report["streams"]]
    playable = sorted({(s["format"], s.get("quality", ""), s["url"]) for s in streams})
    return {
        "name": room.name,
        "title": room.title,
        # Live means there is something to watch: an encoder that reports no
        # public stream (say, a mixer) does not make its room live.
        "live": bool(playable),
        "clients": sum(s["clients"] for s in streams),
        "streams": [{"format": f, "quality": q, "url": u} for f, q, u in playable],
    }


def room_detail(room: Room, reports: Reports) -> dict[str, Any]:
    """The public room plus every live endpoint with its own stats."""
    endpoints = [{"encoder": name, **report} for name, report in sorted(reports.items())]
    return {**public_room(room, reports), "endpoints": endpoints}


def pick_stream(reports: Reports, *, format: str | None = None) -> dict[str, Any] | None:
    """The least loaded live stream (fewest clients, then lowest bitrate)."""
    candidates = [
        stream
        for report in reports.values()
        for stream in report["streams"]
        if format is None or stream["format"] == format
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda s: (s["clients"], s["bitrate"], s["url"]))
    return {"format": best["format"], "quality": best.get("quality", ""), "url": best["url"]}
