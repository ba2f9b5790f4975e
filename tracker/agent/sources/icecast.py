"""Icecast: listeners per mount from /status-json.xsl (Icecast 2.4)."""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from .base import (
    Clock,
    ConfigError,
    Options,
    Rates,
    SourceError,
    Stream,
    check_expected,
    clean_quality,
    fill,
    to_int,
)
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
# ...and the media type browsers are handed, so a player never takes Opus for MP3.
MEDIA_TYPES = {"audio/mp3": "audio/mpeg", "audio/aacp": "audio/aac", "application/ogg": "audio/ogg"}
# Icecast names an Ogg stream's codec in `subtype` ("Opus", "Vorbis", "FLAC"; several for Ogg video).
OGG_CODECS = {"opus": "opus", "vorbis": "vorbis", "flac": "flac"}


# Icecast adds up a mount's byte counters every 5 s or so: a counter still for
# longer than this means no bytes came.
COUNTER_HOLD_SECONDS = 12


def media_type(content_type: str, subtype: str) -> str:
    """'audio/ogg; codecs=opus' for an Ogg/Opus mount, 'audio/mpeg' for MP3, and so on."""
    mime = MEDIA_TYPES.get(content_type, content_type)
    if content_type == "audio/opus":
        return "audio/ogg; codecs=opus"  # Icecast's name for Ogg/Opus in some setups
    codec = OGG_CODECS.get(subtype.strip().lower())
    return f"{mime}; codecs={codec}" if mime == "audio/ogg" and codec else mime


@dataclass
class IcecastSource:
    """One Icecast server. Each mount with a connected source becomes a stream.

    `public_url` is a template with `{mount}` (the mount without its leading
    slash, e.g. `live.mp3`); by default the `listenurl` Icecast reports,
    which is built from its `<hostname>` setting: the agent warns while that
    is a loopback name (Debian's default is localhost), since no viewer can
    open such a URL. Mounts named in `expect` are reported as an error while
    Icecast does not list them, which it does when their source is gone.
    Icecast only repeats the bitrate a source announces (ffmpeg announces
    none). Given its admin password (`admin_password_file`), the agent reads
    /admin/stats too and measures each mount's bitrate from the bytes its
    source sent (`total_bytes_read`) and the bandwidth from the bytes sent to
    listeners (`total_bytes_sent`), between two polls; otherwise a bitrate
    nobody announced is reported as unknown (null), never as 0.

    Each mount is one quality: /live.mp3 and /live.opus share the stem
    `live`, so both become `live-mp3` and `live-opus` (a quality is what a
    viewer chooses, and one stream API answer must not alternate between two
    codecs).
    """

    name: str
    url: str
    timeout: float
    public_url: str | None = None
    format: str | None = None  # None: from the mount's content type
    quality: str = "{stem}"  # the mount name without extension: /hd.webm -> hd
    mounts: list[str] | None = None  # only these mounts (e.g. ["/live.mp3"]); None: all
    bitrate: int = 0  # bit/s, when the source announces none (0: measure it, or unknown)
    expect: list[str] = field(default_factory=list)  # mounts that must have a source, e.g. ["/live.mp3"]
    admin_user: str = "admin"
    admin_password: str | None = None  # from admin_password_file: /admin/stats gives byte counters
    clock: Clock = time.monotonic
    _local_host: str | None = field(default=None, init=False)  # the loopback <hostname> warned about
    _rates: Rates = field(init=False)
    _counters_problem: str = field(default="", init=False)  # why /admin/stats could not be read, as logged

    def __post_init__(self) -> None:
        self._rates = Rates(self.clock, hold=COUNTER_HOLD_SECONDS)

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
        counters = self.counters_if_readable() if self.admin_password else {}
        streams = [stream for mount in mounts if (stream := self.stream(mount, counters)) is not None]
        streams = one_quality_per_mount(streams)
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

    def counters_if_readable(self) -> dict[str, tuple[int, int]]:
        """The byte counters, or none (bitrates unknown) while /admin/stats fails: logged once per reason."""
        try:
            counters = self.byte_counters()
        except SourceError as exc:
            if exc.reason != self._counters_problem:
                log.warning("source %s: cannot measure bitrates, reporting them unknown: %s", self.name, exc.reason)
            self._counters_problem = exc.reason
            return {}
        if self._counters_problem:
            log.info("source %s: measuring bitrates again", self.name)
        self._counters_problem = ""
        return counters

    def byte_counters(self) -> dict[str, tuple[int, int]]:
        """Mount -> (bytes read from its source, bytes sent to listeners), from /admin/stats."""
        parts = urlsplit(self.url)
        credentials = base64.b64encode(f"{self.admin_user}:{self.admin_password}".encode()).decode()
        url = f"{parts.scheme}://{parts.netloc}/admin/stats"
        body = fetch(url, timeout=self.timeout, headers={"Authorization": f"Basic {credentials}"})
        try:
            root = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
        except (DefusedXmlException, ET.ParseError) as exc:
            raise SourceError(f"/admin/stats is not Icecast's stats XML ({type(exc).__name__})") from None
        counters = {}
        for mount in root.iterfind("source"):
            read, sent = mount.findtext("total_bytes_read"), mount.findtext("total_bytes_sent")
            counters[str(mount.get("mount"))] = (to_int(read), to_int(sent))
        self._rates.keep_only({f"{mount} {what}" for mount in counters for what in ("read", "sent")})
        return counters

    def stream(self, mount: dict[str, Any], counters: dict[str, tuple[int, int]]) -> Stream | None:
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
        bitrate: int | None = announced_bitrate(mount) or self.bitrate or None
        bandwidth = None
        if path in counters:
            read, sent = counters[path]
            measured = self._rates.rate(f"{path} read", read)
            bandwidth = self._rates.rate(f"{path} sent", sent)
            bitrate = bitrate or measured or None  # 0 measured: nothing came lately, so unknown
        mime = media_type(content_type, str(mount.get("subtype", ""))) if self.format is None else None
        return Stream(fmt, url, to_int(mount.get("listeners")), bitrate, quality, bandwidth, mime)


def one_quality_per_mount(streams: list[Stream]) -> list[Stream]:
    """Mounts that would share a format and quality (/live.mp3, /live.opus) get their extension added."""
    shared = Counter((stream.format, stream.quality) for stream in streams)
    return [
        stream
        if shared[(stream.format, stream.quality)] == 1
        else replace(stream, quality=clean_quality(f"{stream.quality or ''}-{extension(stream.url)}"))
        for stream in streams
    ]


def extension(url: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[1] if "." in name else name


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


def from_config(options: Options, *, name: str, timeout: float, clock: Clock = time.monotonic) -> IcecastSource:
    password_file = options.text("admin_password_file")
    password = None
    if password_file is not None:
        try:
            password = Path(password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{options.where}: 'admin_password_file' cannot be read: {exc.strerror}") from None
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
        admin_user=options.text("admin_user", "admin") or "admin",
        admin_password=password,
        clock=clock,
    )


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


KEYS = {
    *("url", "public_url", "format", "quality", "mounts", "bitrate", "expect", "timeout"),
    *("admin_user", "admin_password_file"),
}
