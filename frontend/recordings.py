"""A talk's recording as its page on this site plays it: where it is and in what format."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .extras import event, moment, relive_link

# By the path's ending: a playlist (HLS: hls.js, or the browser itself) or a file the browser plays.
FORMATS = {
    ".m3u8": ("hls", "application/vnd.apple.mpegurl"),
    ".mp4": ("mp4", "video/mp4"),
    ".m4v": ("mp4", "video/mp4"),
    ".webm": ("webm", "video/webm"),
    ".mp3": ("audio", "audio/mpeg"),
    ".opus": ("audio", "audio/ogg"),
}


def recording_format(url: str) -> dict[str, str]:
    """{"format", "type"} of a recording's URL; an ending we do not know is left to the browser."""
    path = urlsplit(url).path.lower()
    found = next((value for ending, value in FORMATS.items() if path.endswith(ending)), ("file", ""))
    return {"format": found[0], "type": found[1]}


def recorded_talk(talk: Any, template: str, now: datetime) -> dict[str, Any] | None:
    """The talk with its recording link and format, whether it ended by `now`; None for a talk
    without a recording (a filler, one opted out of recording, no link and no template)."""
    shown = event(talk)
    url = relive_link(template, shown) if shown else ""
    if not shown or not url:
        return None
    end = moment(shown.get("end"))
    abstract = shown.get("abstract") if isinstance(shown.get("abstract"), str) else ""
    return {**shown, "abstract": abstract, "relive": url, "ended": bool(end and end <= now), **recording_format(url)}
