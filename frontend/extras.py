"""A room's public config extras (logo, link, chat, hashtag…) as safe links."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, available_timezones

HASHTAG_URL = "https://mastodon.social/tags/{tag}"
MATRIX_URL = "https://matrix.to/#/{room}"
YOUTUBE_EMBED = "https://www.youtube-nocookie.com/embed/{id}?autoplay=1&mute=1"
YOUTUBE_WATCH = "https://www.youtube.com/watch?v={id}"


def web_url(value: Any) -> str:
    """The value if it is an http(s) URL, else "" (no javascript: links from config or schedules)."""
    if not isinstance(value, str):
        return ""
    return value if urlsplit(value.strip()).scheme in {"http", "https"} else ""


def text(info: dict[str, Any], key: str) -> str:
    value = info.get(key)
    return value.strip() if isinstance(value, str) else ""


def irc_link(value: str) -> dict[str, str] | None:
    if not value:
        return None
    if urlsplit(value).scheme in {"irc", "ircs"}:
        channel = value.rsplit("/", 1)[-1] or value
        return {"href": value, "text": channel}
    # A bare "#channel" names no network: shown, but not a link.
    return {"href": "", "text": value}


def matrix_link(value: str) -> dict[str, str] | None:
    if not value:
        return None
    return {"href": MATRIX_URL.format(room=quote(value, safe=":!@")), "text": value}


def relive_link(template: str, talk: dict[str, Any]) -> str:
    """Where the talk's recording is ("watch again"): none for fillers or talks the speakers
    opted out of recording; else the schedule's own recording link; else the room's relive-url
    template, "" when it names an {id} the schedule does not give (ui.js's reliveLink does the same)."""
    if talk.get("generated") or talk.get("do_not_record"):
        return ""
    if talk.get("recording"):
        return web_url(talk["recording"])
    if not template:
        return ""
    fields = {key: str(talk.get(key) or "") for key in ("guid", "id")}
    if any(f"{{{key}}}" in template and not value for key, value in fields.items()):
        return ""
    for key, value in fields.items():
        template = template.replace(f"{{{key}}}", quote(value, safe=""))
    return web_url(template)


def day_with_recordings(day: Any, template: str, now: datetime) -> list[dict[str, Any]]:
    """The day's talks, each with its recording link and whether it ended by `now`."""
    talks = [talk for talk in day if isinstance(talk, dict)] if isinstance(day, list) else []
    return [
        {**talk, "relive": relive_link(template, talk), "ended": (moment(talk.get("end")) or now) < now}
        for talk in talks
    ]


def room_extras(room: dict[str, Any]) -> dict[str, Any]:
    found = room.get("info")
    info: dict[str, Any] = found if isinstance(found, dict) else {}
    hashtag = text(info, "hashtag").lstrip("#")
    youtube = text(info, "youtube")
    youtube = youtube if youtube.replace("-", "").replace("_", "").isalnum() else ""
    try:
        interval = max(2, int(info.get("preview-interval") or 10))
    except (TypeError, ValueError):
        interval = 10
    return {
        "logo": web_url(info.get("logo")),
        "link": web_url(info.get("link")),
        "irc": irc_link(text(info, "irc")),
        "matrix": matrix_link(text(info, "matrix")),
        "irclog": web_url(info.get("irclog")),
        "hashtag": {"href": HASHTAG_URL.format(tag=quote(hashtag)), "text": "#" + hashtag} if hashtag else None,
        "preview": web_url(info.get("preview")),
        "preview_interval": interval,
        "youtube": youtube,
        "youtube_embed": YOUTUBE_EMBED.format(id=youtube) if youtube else "",
        "youtube_watch": YOUTUBE_WATCH.format(id=youtube) if youtube else "",
        "relive": text(info, "relive-url"),
        "subtitles": web_url(info.get("subtitles")),
    }


ACCENT = re.compile(r"^#[0-9A-Fa-f]{6}\Z")
DEFAULT_BRANDING = {"name": "Live streams", "logo": "", "favicon": "", "accent": "", "timezone": "UTC"}


def branding(value: Any) -> dict[str, str]:
    """The event's name, logo, favicon, accent colour and time zone, each dropped when unsafe to put in a page."""
    value = value if isinstance(value, dict) else {}
    name = text(value, "name")[:100]
    accent = value.get("accent")
    return {
        "name": name or DEFAULT_BRANDING["name"],
        "logo": web_url(value.get("logo")),
        "favicon": web_url(value.get("favicon")),
        "accent": accent if isinstance(accent, str) and ACCENT.match(accent) else "",
        "timezone": zone_name(value.get("timezone")),
    }


def zone_name(value: Any) -> str:
    """An IANA time zone name the page's clock can use, else UTC."""
    return value if isinstance(value, str) and value in available_zones() else "UTC"


@functools.cache
def available_zones() -> frozenset[str]:
    return frozenset(available_timezones())  # reads the zone files once per process


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(zone_name(name))


def event(value: Any) -> dict[str, Any] | None:
    """A now/next event as the templates use it, or None."""
    if not isinstance(value, dict) or not value.get("title"):
        return None
    found = value.get("speakers")
    speakers: list[Any] = found if isinstance(found, list) else []
    return {**value, "url": web_url(value.get("url")), "speakers": [str(s) for s in speakers]}


def moment(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# A room that is not live but has a talk starting within this is "starting soon".
SOON = timedelta(minutes=30)


def room_state(live: bool, upcoming: dict[str, Any] | None, now: datetime, said: str = "") -> str:
    """What a viewer page says of a room, the same rule as ui.js's roomState, from
    the tracker's public state (`said`): live; failing (live, but enough viewers'
    players fail: playback trouble reported); interrupted (a talk is on and
    nothing streams); soon or offline."""
    if live:
        return "failing" if said == "viewers-failing" else "live"
    if said == "off-air-talk":
        return "interrupted"
    starts = moment(upcoming["start"]) if upcoming else None
    return "soon" if starts and now < starts < now + SOON else "offline"


def progress(current: dict[str, Any] | None, now: datetime) -> int:
    """How far into the talk on now, in percent (the page's script keeps it moving)."""
    start, end = (moment(current["start"]), moment(current["end"])) if current else (None, None)
    if not start or not end or end <= start:
        return 0
    return round(min(1.0, max(0.0, (now - start) / (end - start))) * 100)


def prepare(room: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The room with extras, state and now/next ready for templates (missing fields degrade to
    nothing); `now` is the schedule's time (with its offset)."""
    current, upcoming = event(room.get("now")), event(room.get("next"))
    return {
        **room,
        "extras": room_extras(room),
        "now": current and {**current, "progress": progress(current, now)},
        "next": upcoming,
        "state": room_state(bool(room.get("live")), upcoming, now, str(room.get("state", ""))),
        "viewers": room.get("viewers") if isinstance(room.get("viewers"), int) else None,
    }


# Formats in the order a page tries them; DASH needs a player we do not ship.
FORMAT_ORDER = ("hls", "webm", "mp4", "audio")
MIME_TYPES = {"hls": "application/vnd.apple.mpegurl", "webm": "video/webm", "mp4": "video/mp4", "audio": "audio/mpeg"}


def sources(room: dict[str, Any]) -> list[dict[str, str]]:
    """One <source> per format, HD first, for browsers playing without JavaScript."""
    streams = [s for s in room.get("streams", []) if s.get("format") in MIME_TYPES and web_url(s.get("url"))]
    streams.sort(key=lambda s: (FORMAT_ORDER.index(s["format"]), s.get("quality") != "hd"))
    chosen: dict[str, dict[str, str]] = {}
    for stream in streams:
        # The stream's own media type where the encoder named it (Ogg/Opus is not audio/mpeg).
        media_type = stream.get("mime") if isinstance(stream.get("mime"), str) else MIME_TYPES[stream["format"]]
        chosen.setdefault(stream["format"], {"url": stream["url"], "type": media_type})
    return list(chosen.values())
