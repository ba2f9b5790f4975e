"""The previous generation's register protocol, read as the original server read it.

Its clients POST a form with `secret`, `group` and `data`, a JSON object of
`<name>_clients`, `<name>_bitrate` and `<name>_cbitrate` per streaming
component plus `overall_*` totals, and expect HTTP 200 with `OK` or `ERROR …`
in plain text (they exit on any other status). The README's legacy section
has the table of what each name gives viewers; tracker/tests/legacy/ holds a
stand-in for the original clients.

What the figures mean, from the original clients: `_bitrate` is what the
streaming component measured going out (flumotion's consumption bitrate), so
it is bandwidth; `_cbitrate` is clients * the stream's own bitrate (a
computed bandwidth), from which the encoding bitrate is `_cbitrate / clients`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# The original counted an endpoint as active for a minute after it registered
# (its real client registered every 30 s, plus the time to query flumotion).
INTERVAL = 60
MAX_VALUE = 100_000_000_000  # as heartbeat.MAX_BITRATE: anything above is a unit mistake
MAX_KEYS = 256  # the original's full set is 27; a record must stay small
MAX_KEY_LENGTH = 64
MAX_URL_LENGTH = 2048
KEY = re.compile(r"^(?P<name>[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)_(?P<stat>[A-Za-z0-9]+)\Z")
STATS = ("clients", "bitrate", "cbitrate")
HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\Z|^\[[0-9A-Fa-f:.]+\]\Z")
# Keys the original refused outright: the server sets them itself.
FORBIDDEN = ("ip", "group")


@dataclass(frozen=True)
class Offer:
    """What viewers get for an original name: a format and the quality label it is offered under."""

    format: str
    quality: str


# The original names and what today's browsers can play of them. WebM (VP8 and
# Vorbis) plays in every current browser; the audio-only mounts are offered as
# `audio` with the codec as quality so a player can pick one it can decode.
# The original's last schema added H.264 MP4 columns; its player had no path
# for them, so they are offered once a room gives them a URL.
OFFERS: dict[str, Offer] = {
    "webm_high": Offer("webm", "high"),
    "webm_low": Offer("webm", "low"),
    "mp4_high": Offer("mp4", "high"),
    "mp4_low": Offer("mp4", "low"),
    "ogg_high": Offer("audio", "ogg"),
    "aac_high": Offer("audio", "aac"),
    "mp3_high": Offer("audio", "mp3"),
}
# Counted and shown to operators, never offered: no current browser plays FLV,
# and `loop` is the encoder's own test loop, not the talk.
COUNTED_ONLY: dict[str, str] = {
    "flv_high": "FLV: no current browser plays it",
    "flv_low": "FLV: no current browser plays it",
    "loop": "the encoder's test loop",
}


class LegacyError(ValueError):
    """Bad `data`; `kind` is the word after ERROR, as the original answered an exception's class name."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason

    @property
    def answer(self) -> str:
        return f"ERROR {self.kind} {self.reason}"


@dataclass
class LegacyReport:
    """One register request's figures: playable streams, counted-only streams, totals and other stats."""

    streams: list[dict[str, Any]] = field(default_factory=list)
    counted: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # clients, bandwidth
    stats: dict[str, int] = field(default_factory=dict)  # every other figure, as sent (rounded)


def number(key: str, value: Any) -> int:
    """A count or rate as the original clients send them: ints, floats (1000000.0) or digit strings."""
    if isinstance(value, str):
        # float() also reads other scripts' digits ("١٢"); the original clients send ASCII.
        if not value.isascii() or len(value) > 32:
            raise LegacyError("ValueError", f"{key}: must be a number")
        try:
            value = float(value.strip())
        except ValueError:
            raise LegacyError("ValueError", f"{key}: must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LegacyError("ValueError", f"{key}: must be a number")
    rounded = round(value)
    if not 0 <= rounded <= MAX_VALUE:
        raise LegacyError("ValueError", f"{key}: must be from 0 to {MAX_VALUE}")
    return rounded


def url_host(address: str) -> str:
    """An address as it goes into a URL (IPv6 in brackets)."""
    try:
        return f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    except ValueError:
        return address


def stream_url(template: str, *, address: str, public_host: str) -> str:
    return template.format(address=public_host or url_host(address))


def split_stats(data: dict[str, Any]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """`<name>_<stat>` keys grouped by name (the three stream figures), and every other key."""
    if len(data) > MAX_KEYS:
        raise LegacyError("ValueError", f"data has more than {MAX_KEYS} keys")
    by_name: dict[str, dict[str, int]] = {}
    other: dict[str, int] = {}
    for key, value in data.items():
        if key in FORBIDDEN:
            raise LegacyError("AssertionError", f"data may not set {key!r}: the server sets it")
        match = KEY.match(key) if len(key) <= MAX_KEY_LENGTH else None
        if match is None:
            # The original passed every key to its model, which refused unknown columns.
            raise LegacyError("TypeError", f"{key[:MAX_KEY_LENGTH]!r} is not a <name>_<figure> key")
        figure = number(key, value)
        name, stat = match["name"], match["stat"]
        if name != "overall" and stat in STATS:
            by_name.setdefault(name, {})[stat] = figure
        else:
            other[key] = figure
    return by_name, other


def figures(values: dict[str, int]) -> dict[str, int]:
    """Clients, encoding bitrate and outgoing bandwidth of one original stream."""
    clients = values.get("clients", 0)
    computed = values.get("cbitrate")
    bandwidth = values.get("bitrate", computed or 0)
    bitrate = round(computed / clients) if computed and clients else 0
    return {"clients": clients, "bitrate": bitrate, "bandwidth": bandwidth}


def parse_report(data: Any, *, address: str, templates: dict[str, str], public_host: str = "") -> LegacyReport:
    """The report in a decoded `data` object; raises LegacyError as the original refused it."""
    if not isinstance(data, dict):
        raise LegacyError("TypeError", "data must be a JSON object")
    by_name, other = split_stats(data)
    report = LegacyReport(stats=other)
    for name, values in sorted(by_name.items()):
        offer, template = OFFERS.get(name), templates.get(name, "")
        if offer is not None and template:
            url = stream_url(template, address=address, public_host=public_host)
            report.streams.append({"format": offer.format, "quality": offer.quality, "url": url, **figures(values)})
        else:
            why = COUNTED_ONLY.get(name) or ("no URL configured" if offer else "not an original stream name")
            report.counted.append({"name": name, **figures(values), "why": why})
    # The loop is not part of the original's overall figures either.
    entries = [*report.streams, *(c for c in report.counted if c["name"] != "loop")]
    report.totals = {
        "clients": other.pop("overall_clients", sum(e["clients"] for e in entries)),
        "bandwidth": other.pop("overall_bitrate", other.get("overall_cbitrate", sum(e["bandwidth"] for e in entries))),
    }
    return report


def template_problem(name: Any, template: Any) -> str | None:
    """What is wrong with one entry of a room's `legacy-streams`, or None."""
    if name not in OFFERS:
        hint = f" ({COUNTED_ONLY[name]}: it is counted, never offered)" if name in COUNTED_ONLY else ""
        return f"{name!r} is not a playable original name{hint}; use {', '.join(OFFERS)}"
    if not isinstance(template, str):
        return f"{name}: must be a string"
    if not template:
        return None  # counted only
    try:
        url = stream_url(template, address="2001:db8::1", public_host="")
    except (KeyError, IndexError, ValueError):
        return f"{name}: the only placeholder is {{address}}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL_LENGTH:
        return f"{name}: must make an http or https URL"
    return None


def public_host_problem(host: Any) -> str | None:
    """What is wrong with a room's `legacy-public-host` (a host name or address, no scheme, port or path)."""
    if host == "":
        return None
    if not isinstance(host, str) or not HOST.match(host):
        return f"{host!r} must be a host name or address, without scheme, port or path"
    return None


def mixed_content(room: str, settings: dict[str, Any]) -> str | None:
    """Why a room's legacy URLs would be blocked on an HTTPS site, or None (none are http, or it allows them)."""
    if settings.get("legacy-allow-http"):
        return None
    templates = settings.get("legacy-streams", {})
    insecure = [name for name, url in templates.items() if urlsplit(url).scheme.lower() == "http"]
    if not insecure:
        return None
    return (
        f"room {room!r}: legacy-streams {', '.join(insecure)} are http:// URLs, which browsers block on an "
        "HTTPS site (mixed content); use https:// (legacy-public-host names a host viewers can reach) "
        "or set legacy-allow-http to true"
    )
