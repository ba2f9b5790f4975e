"""A room's public config extras (logo, link, chat, hashtag…) as safe links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

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


def room_extras(room: dict[str, Any]) -> dict[str, Any]:
    info = room.get("info") if isinstance(room.get("info"), dict) else {}
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
    }


def event(value: Any) -> dict[str, Any] | None:
    """A now/next event as the templates use it, or None."""
    if not isinstance(value, dict) or not value.get("title"):
        return None
    speakers = value.get("speakers") if isinstance(value.get("speakers"), list) else []
    return {**value, "url": web_url(value.get("url")), "speakers": [str(s) for s in speakers]}


def prepare(room: dict[str, Any]) -> dict[str, Any]:
    """The room with extras and now/next ready for templates (missing fields degrade to nothing)."""
    return {
        **room,
        "extras": room_extras(room),
        "now": event(room.get("now")),
        "next": event(room.get("next")),
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
        chosen.setdefault(stream["format"], {"url": stream["url"], "type": MIME_TYPES[stream["format"]]})
    return list(chosen.values())
