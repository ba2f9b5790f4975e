"""Icecast: listeners per mount from /status-json.xsl (Icecast 2.4)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .base import Options, SourceError, Stream, clean_quality, fill, to_int
from .fetch import fetch

# Content types a source announces -> tracker format. Ogg and Opus are audio
# here: Icecast carries video too, but conference setups send audio-only mounts.
CONTENT_TYPES = {
    "audio/mpeg": "audio",
    "audio/mp3": "audio",
    "audio/aac": "audio",
    "audio/aacp": "audio",
    "audio/ogg": "audio",
    "audio/opus": "audio",
    "application/ogg": "audio",
    "audio/webm": "webm",
    "video/webm": "webm",
    "video/mp4": "mp4",
}


@dataclass
class IcecastSource:
    """One Icecast server. Each mount with a connected source becomes a stream.

    `public_url` is a template with `{mount}` (the mount without its leading
    slash, e.g. `live.mp3`); by default the `listenurl` Icecast reports,
    which is built from its `<hostname>` setting.
    """

    name: str
    url: str
    timeout: float
    public_url: str | None = None
    format: str | None = None  # None: from the mount's content type
    quality: str = "{stem}"  # the mount name without extension: /hd.webm -> hd
    mounts: list[str] | None = None  # only these mounts (e.g. ["/live.mp3"]); None: all
    bitrate: int = 0  # bit/s, when the source announces none

    def collect(self) -> list[Stream]:
        body = fetch(self.url, timeout=self.timeout)
        try:
            document = json.loads(body)
        except ValueError as exc:
            # Icecast 2.4's XSLT-made JSON is invalid in some states, notably
            # right after start-up and with odd metadata; the next poll is usually fine.
            raise SourceError(f"status-json.xsl is not valid JSON ({type(exc).__name__})") from None
        stats = document.get("icestats") if isinstance(document, dict) else None
        if not isinstance(stats, dict):
            raise SourceError("status-json.xsl has no icestats object")
        mounts = stats.get("source")
        # One mount is an object, several a list, none leaves the key out.
        if mounts is None:
            mounts = []
        elif isinstance(mounts, dict):
            mounts = [mounts]
        elif not isinstance(mounts, list):
            raise SourceError("status-json.xsl: icestats.source is neither an object nor a list")
        streams = [self.stream(mount) for mount in mounts if isinstance(mount, dict)]
        return [stream for stream in streams if stream is not None]

    def stream(self, mount: dict[str, Any]) -> Stream | None:
        listenurl = mount.get("listenurl")
        if not isinstance(listenurl, str):
            return None
        path = urlsplit(listenurl).path
        if self.mounts is not None and path not in self.mounts:
            return None
        content_type = str(mount.get("server_type", "")).split(";")[0].strip().lower()
        fmt = self.format or CONTENT_TYPES.get(content_type)
        if fmt is None:
            return None  # a content type the tracker has no format for: set `format` to report it
        name = path.lstrip("/")
        url = fill(self.public_url, mount=name) if self.public_url else listenurl
        quality = clean_quality(fill(self.quality, mount=name, stem=name.rsplit(".", 1)[0]))
        return Stream(fmt, url, to_int(mount.get("listeners")), announced_bitrate(mount) or self.bitrate, quality)


def announced_bitrate(mount: dict[str, Any]) -> int:
    """The bitrate the source client announced, in bit/s (0 when it announced none).

    Icecast only repeats what the source sent: `bitrate` / `ice-bitrate` in
    kbit/s from the ice-bitrate header, `bitrate=` in ice-audio-info (kbit/s),
    or `audio_bitrate` in bit/s from Ogg streams. It does not measure.
    """
    for key in ("bitrate", "ice-bitrate"):
        if to_int(mount.get(key)):
            return to_int(mount[key]) * 1000
    for part in str(mount.get("audio_info", "")).split(";"):
        key, _, value = part.partition("=")
        if key.strip() in ("bitrate", "ice-bitrate") and to_int(value):
            return to_int(value) * 1000
    return to_int(mount.get("audio_bitrate"))


def from_config(options: Options, *, name: str, timeout: float) -> IcecastSource:
    return IcecastSource(
        name=name,
        url=options.url("url", required=True) or "",
        timeout=timeout,
        public_url=options.url("public_url"),
        format=options.format(),
        quality=options.text("quality", "{stem}") or "",
        mounts=options.names("mounts"),
        bitrate=int(options.number("bitrate", 0, low=0, high=100e9)),
    )


KEYS = {"url", "public_url", "format", "quality", "mounts", "bitrate", "timeout"}
