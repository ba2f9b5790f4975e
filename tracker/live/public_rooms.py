"""What the public sees of a room, computed from its encoders' reports and attributes."""

from __future__ import annotations

from typing import Any

from tracker.config import Room
from tracker.encoders.state_machine import Record
from tracker.encoders.store import Snapshot

Reports = dict[str, dict[str, Any]]  # encoder name -> its public report

# Room config keys that viewers' pages may show.
PUBLIC_INFO = (
    *("logo", "link", "irc", "matrix", "irclog", "hashtag", "preview", "preview-interval", "youtube"),
    *("relive-url", "subtitles"),
)


def public_event(settings: dict[str, Any], rooms: dict[str, Room]) -> dict[str, str]:
    """The event's branding for the viewers' pages, from the global config, and its time
    zone: that of the first room with a schedule (pages show times in it by default)."""
    zones = [room.settings.get("schedule-timezone") for room in rooms.values() if room.settings.get("schedule")]
    return {
        **{key: settings[f"event-{key}"] for key in ("name", "logo", "favicon", "accent")},
        "timezone": next((zone for zone in zones if zone), "UTC"),
    }


def public_room(room: Room, reports: Reports, attrs: dict[str, Any]) -> dict[str, Any]:
    """The room as viewers see it: live or not, what can be played, who watches, what is on."""
    streams = [stream for report in reports.values() for stream in report["streams"]]
    playable = sorted({(s["format"], s.get("quality", ""), s["url"], s.get("language", "")) for s in streams})
    nownext = attrs.get("nownext") or {}
    return {
        "name": room.name,
        "title": room.title,
        # Live means there is something to watch: an encoder that reports no
        # public stream (say, a mixer) does not make its room live.
        "live": bool(playable),
        "viewers": attrs.get("viewers", 0),
        # A translation carries its language; the room's own streams have none.
        "streams": [
            {"format": f, "quality": q, "url": u, **({"language": lang} if lang else {})} for f, q, u, lang in playable
        ],
        "info": {key: room.settings[key] for key in PUBLIC_INFO if room.settings.get(key)},
        "now": nownext.get("now"),
        "next": nownext.get("next"),
    }


def public_rooms(configured: dict[str, Room], snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """Every configured room, in config order, as viewers see it in `snapshot`."""
    return {
        name: public_room(room, snapshot.rooms[name].reports, snapshot.rooms[name].attrs)
        for name, room in configured.items()
    }


def room_detail(room: Room, reports: Reports, attrs: dict[str, Any], records: list[Record]) -> dict[str, Any]:
    """The public room plus every live endpoint of it with its own stats."""
    endpoints = [
        {"encoder": r.name, "role": r.role, "state": r.state, "interval": r.interval, "streams": r.streams}
        for r in sorted(records, key=lambda r: r.name)
        if r.room == room.name and r.live
    ]
    return {**public_room(room, reports, attrs), "endpoints": endpoints}


def pick_stream(
    records: list[Record],
    *,
    room: str,
    format: str | None = None,
    quality: str | None = None,
    language: str = "",
    assigned: dict[str, int] | None = None,
) -> dict[str, Any] | None:
    """The least loaded live stream of the room matching format, quality and language.

    Load is the clients the endpoint last reported plus the viewers sent to
    it since, so a crowd arriving between two heartbeats is spread out
    instead of all landing on the endpoint that looked emptiest.
    """
    assigned = assigned or {}
    candidates = [
        stream
        for record in records
        if record.room == room and record.live
        for stream in record.streams
        if (format is None or stream["format"] == format)
        and (quality is None or stream.get("quality") == quality)
        and stream.get("language", "") == language  # "": the room's own sound, not a translation
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda s: (s["clients"] + assigned.get(s["url"], 0), s["bitrate"], s["url"]))
    return {"format": best["format"], "quality": best.get("quality", ""), "url": best["url"]}
