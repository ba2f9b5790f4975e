"""Icecast: listeners per mount from /status-json.xsl (Icecast 2.4)."""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .base import Options, SourceError, Stream, check_expected, clean_quality, fill, to_int
from .fetch import fetch

log = logging.getLogger("tracker.agent")

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
    which is built from its `<hostname>` setting: the agent warns while that
    is a loopback name (Debian's default is localhost), since no viewer can
    open such a URL. Mounts named in `expect` are reported as an error while
    Icecast does not list them, which it does when their source is gone.
    Icecast only repeats the bitrate a source announces, so the bandwidth is
    left to the tracker (clients x bitrate).
    """

    name: str
    url: str
    timeout: float
    public_url: str | None = None
    format: str | None = None  # None: from the mount's content type
    quality: str = "{stem}"  # the mount name without extension: /hd.webm -> hd
    mounts: list[str] | None = None  # only these mounts (e.g. ["/live.mp3"]); None: all
    bitrate: int = 0  # bit/s, when the source announces none
    expect: list[str] = field(default_factory=list)  # mounts that must have a source, e.g. ["/live.mp3"]
    _local_host: str | None = field(default=None, init=False)  # the loopback <hostname> warned about

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
        mounts = [mount for mount in mounts if isinstance(mount, dict)]
        self.check_hostname(stats, mounts)
        streams = [stream for stream in map(self.stream, mounts) if stream is not None]
        listed = {urlsplit(str(mount.get("listenurl", ""))).path: "" for mount in mounts}
        # Icecast lists a mount only while a source feeds it.
        return check_expected(streams, expect=self.expect, seen=listed, what="mount", absent="has no source")

    def check_hostname(self, stats: dict[str, Any], mounts: list[dict[str, Any]]) -> None:
        """Warn once per change while viewers would be given URLs on a loopback host."""
        if self.public_url:
            return
        urls = [str(mount.get("listenurl", "")) for mount in mounts]
        host = str(stats.get("host") or next((urlsplit(url).hostname for url in urls if url), "") or "")
        local = host if is_loopback(host) else None
        if local is not None and local != self._local_host:
            log.warning(
                "source %s: Icecast's <hostname> is %s, so viewers would be sent to URLs like %s that no "
                "viewer can open; set <hostname> in icecast.xml to the public name, or public_url for this source",
                self.name,
                local,
                next((url for url in urls if url), f"http://{local}:8000/<mount>"),
            )
        elif local is None and self._local_host is not None:
            log.info("source %s: Icecast's <hostname> is now %s", self.name, host)
        self._local_host = local

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
        expect=["/" + mount.lstrip("/") for mount in options.names("expect") or []],
    )


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


KEYS = {"url", "public_url", "format", "quality", "mounts", "bitrate", "expect", "timeout"}
