"""What every source shares: the stream it reports, its errors, and config reading."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

# The formats and limits the tracker accepts (tracker/encoders/heartbeat.py). Copied, not
# imported: the agent must run without the tracker's code and Django.
FORMATS = ("hls", "dash", "webm", "mp4", "audio")
MAX_QUALITY = 32
NOT_QUALITY = re.compile(r"[^A-Za-z0-9_-]+")


class SourceError(Exception):
    """A source could not be read; `reason` goes into the heartbeat's metrics.errors.

    Reasons must stay the same while the cause stays the same (no counters,
    no elapsed times): the agent logs a line when a reason changes.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Incomplete(SourceError):
    """Streams the config expects are absent, have no source or carry nothing; the others still report."""

    def __init__(self, reason: str, streams: list[Stream]):
        super().__init__(reason)
        self.streams = streams


def check_expected(
    streams: list[Stream], *, expect: list[str], seen: Mapping[str, str], what: str, absent: str = "is absent"
) -> list[Stream]:
    """`streams`, or Incomplete naming each expected stream that is unwell.

    `seen` maps each stream the server lists to "" when it is fine, or what is
    wrong with it ("has no publisher", "receives 0 bit/s"); one not listed is `absent`.
    """
    problems = [f"{what} {name} {seen.get(name, absent)}" for name in expect if seen.get(name, absent)]
    if problems:
        raise Incomplete("expected " + "; ".join(problems), streams)
    return streams


class ConfigError(ValueError):
    """The agent's configuration is wrong; the message names the key."""


@dataclass(frozen=True)
class Stream:
    """One playable stream as the heartbeat carries it."""

    format: str
    url: str
    clients: int
    bitrate: int | None  # bit/s the stream is encoded at; None: unknown (sent as null, never as 0)
    quality: str | None = None
    bandwidth: int | None = None  # bit/s going out to viewers, when the server measures it
    mime: str | None = None  # the media type browsers get, with its codec: 'audio/ogg; codecs=opus'

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": self.format,
            "url": self.url,
            "clients": self.clients,
            "bitrate": self.bitrate,
        }
        if self.quality:
            body["quality"] = self.quality
        if self.bandwidth is not None:
            body["bandwidth"] = self.bandwidth
        if self.mime:
            body["mime"] = self.mime
        return body


class Source(Protocol):
    """Something that reports streams. `collect` is called once per heartbeat."""

    name: str

    def collect(self) -> list[Stream]:
        """The streams live right now; raises SourceError when the source can't tell."""
        ...


Clock = Callable[[], float]


class Rates:
    """Bit/s from a byte counter a server keeps, measured between the moments it moved.

    Per key (a mount, a stream): None until the counter has moved twice in
    our sight (the first move only marks a moment: the count before it may
    be older than our first look), or again when it went back (the publisher
    reconnected and the server counts anew); then 8 x the bytes added over
    the seconds between two moves. Icecast adds up its counters every few
    seconds only: a counter unchanged for less than `hold` seconds keeps its
    last rate; after that (at once with hold 0, for servers that count every
    packet) it is 0.
    """

    def __init__(self, clock: Clock, *, hold: float = 0) -> None:
        self.clock, self.hold = clock, hold
        # key -> (when it last moved or was first seen, its count then, the rate, whether that was a move)
        self.last: dict[str, tuple[float, int, int | None, bool]] = {}

    def rate(self, key: str, count: int) -> int | None:
        now = self.clock()
        before = self.last.get(key)
        if before is None or count < before[1] or now <= before[0]:
            self.last[key] = (now, count, None, False)
            return None
        moved_at, last_count, last_rate, was_move = before
        if count == last_count:
            return last_rate if now - moved_at < self.hold else 0
        rate = round((count - last_count) * 8 / (now - moved_at)) if was_move or not self.hold else None
        self.last[key] = (now, count, rate, True)
        return rate

    def keep_only(self, keys: set[str]) -> None:
        """Forget counters no longer listed: one that returns starts over."""
        for key in self.last.keys() - keys:
            del self.last[key]


def clean_quality(text: str) -> str | None:
    """A quality label the tracker accepts ([A-Za-z0-9_-], 1-32), or None when nothing is left."""
    return NOT_QUALITY.sub("-", text).strip("-")[:MAX_QUALITY] or None


def fill(template: str, **values: str) -> str:
    """A URL or quality template with {placeholders} filled in; raises SourceError on a bad one."""
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise SourceError(f"template {template!r} has an unknown placeholder {exc}") from None


def to_int(value: Any, default: int = 0) -> int:
    """A count or rate from a status document, where numbers may come as strings or be missing."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return max(0, int(value))
    if isinstance(value, str):
        try:
            return max(0, int(float(value.strip())))
        except ValueError:
            return default
    return default


def origin(url: str) -> str:
    """`scheme://host` of a URL, without the port: default public URLs are built on it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://[{host}]" if ":" in host else f"{parts.scheme}://{host}"


class Options:
    """Typed access to one source's config entry, refusing keys nobody reads.

    A misspelt key (`pubilc_url`) would otherwise be ignored silently and the
    agent would report the wrong URL for a whole event.
    """

    def __init__(self, entry: Mapping[str, Any], where: str, allowed: set[str]):
        self.entry = entry
        self.where = where
        for key in entry.keys() - allowed - {"type", "name"}:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(allowed))})")

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.entry.get(key, default)
        if value is None and required:
            raise ConfigError(f"{self.where}: {key!r} is required")
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{self.where}: {key!r} must be a string")
        return value

    def url(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.text(key, default, required=required)
        if value is not None and "{" not in value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"{self.where}: {key!r} must be an http or https URL")
        return value

    def number(self, key: str, default: float, *, low: float, high: float) -> float:
        value = self.entry.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ConfigError(f"{self.where}: {key!r} must be a number from {low:g} to {high:g}")
        return float(value)

    def format(self, key: str = "format", default: str | None = None) -> str | None:
        value = self.text(key, default)
        if value is not None and value not in FORMATS:
            raise ConfigError(f"{self.where}: {key!r} must be one of {', '.join(FORMATS)}")
        return value

    def names(self, key: str) -> list[str] | None:
        value = self.entry.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{self.where}: {key!r} must be a list of strings")
        return value
