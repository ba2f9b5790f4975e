"""Validation of what encoders send, before anything is written."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Format name -> file extension, for URLs built from templates.
FORMATS = {"hls": "m3u8", "dash": "mpd", "webm": "webm", "mp4": "mp4", "audio": "mp3"}
ENCODER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
QUALITY = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")
DEFAULT_INTERVAL = 10
MIN_INTERVAL, MAX_INTERVAL = 1, 300
MAX_STREAMS = 32
MAX_URL_LENGTH = 2048
MAX_CLIENTS = 10_000_000
MAX_BITRATE = 100_000_000_000  # 100 Gbit/s: anything above is a unit mistake
HEARTBEAT_FIELDS = {"room", "encoder", "interval", "streams", "metrics"}
MAX_ERRORS = 16
# Metric -> (low, high, integers only); percentages, seconds, dBFS, counts.
METRICS = {
    "cpu": (0, 100, False),
    "memory": (0, 100, False),
    "dropped_frames": (0, 10**12, True),
    "uptime": (0, 10**10, True),
    "audio_level": (-200, 0, False),
    "silence": (0, 10**10, True),
}
STREAM_FIELDS = {"format", "url", "quality", "clients", "bitrate", "language"}
# A stream's spoken language (a translation), as a BCP 47 tag: "en", "de", "pt-BR".
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,2}\Z")
LEGACY_STREAM_KEY = re.compile(r"^(?P<format>[a-z0-9]+)_(?P<quality>[A-Za-z0-9_-]+)_clients\Z")


class InvalidField(ValueError):
    """One field of the input is wrong; `field` names it as a path."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Heartbeat:
    room: str
    encoder: str
    interval: int
    streams: list[dict[str, Any]]
    metrics: dict[str, Any] = field(default_factory=dict)


def decode_json(data: str | bytes) -> Any:
    """JSON from a client; anything that is not (bad UTF-8, absurd nesting) is an InvalidField."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise InvalidField("body", "is not valid JSON") from None


def bearer(authorization: str) -> str | None:
    """The token of an "Authorization: Bearer <token>" header value."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def require_int(field: str, value: Any, *, low: int, high: int) -> int:
    # bool is an int subclass in Python, but `true` is not a number in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidField(field, "must be an integer")
    if not low <= value <= high:
        raise InvalidField(field, f"must be from {low} to {high}")
    return value


def require_str(field: str, value: Any, pattern: re.Pattern[str], description: str) -> str:
    if not isinstance(value, str):
        raise InvalidField(field, "must be a string")
    if not pattern.match(value):
        raise InvalidField(field, description)
    return value


def check_url(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidField(field, "must be a string")
    if len(value) > MAX_URL_LENGTH:
        raise InvalidField(field, f"must be at most {MAX_URL_LENGTH} characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidField(field, "must be an http or https URL")
    return value


def check_format(field: str, value: Any) -> str:
    if value not in FORMATS:
        raise InvalidField(field, f"must be one of {', '.join(sorted(FORMATS))}")
    return value


def parse_stream(field: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidField(field, "must be an object")
    for name in data.keys() - STREAM_FIELDS:
        raise InvalidField(f"{field}.{name}", "is not a known field")
    for name in ("format", "url", "clients", "bitrate"):
        if name not in data:
            raise InvalidField(f"{field}.{name}", "is required")
    stream = {
        "format": check_format(f"{field}.format", data["format"]),
        "url": check_url(f"{field}.url", data["url"]),
        "clients": require_int(f"{field}.clients", data["clients"], low=0, high=MAX_CLIENTS),
        "bitrate": require_int(f"{field}.bitrate", data["bitrate"], low=0, high=MAX_BITRATE),
    }
    if "quality" in data:
        stream["quality"] = require_str(
            f"{field}.quality", data["quality"], QUALITY, "must be 1-32 letters, digits, '_' or '-'"
        )
    if "language" in data:
        stream["language"] = require_str(
            f"{field}.language", data["language"], LANGUAGE, "must be a language tag like en or pt-BR"
        )
    return stream


def require_number(name: str, value: Any, *, low: float, high: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:  # NaN != NaN
        raise InvalidField(name, "must be a number")
    if not low <= value <= high:
        raise InvalidField(name, f"must be from {low} to {high}")
    return value


def short_text(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidField(name, f"must be a string of 1-{limit} characters")
    return value


def parse_metrics(data: Any) -> dict[str, Any]:
    """Encoder health figures; `errors` lists sources that failed, with why."""
    if not isinstance(data, dict):
        raise InvalidField("metrics", "must be an object")
    metrics: dict[str, Any] = {}
    for name, value in data.items():
        if name == "errors":
            if not isinstance(value, list) or len(value) > MAX_ERRORS:
                raise InvalidField("metrics.errors", f"must be a list of at most {MAX_ERRORS} entries")
            metrics["errors"] = [parse_error(f"metrics.errors[{i}]", error) for i, error in enumerate(value)]
        elif name in METRICS:
            low, high, integer = METRICS[name]
            check = require_int if integer else require_number
            metrics[name] = check(f"metrics.{name}", value, low=low, high=high)
        else:
            raise InvalidField(f"metrics.{name}", "is not a known metric")
    return metrics


def parse_error(name: str, data: Any) -> dict[str, str]:
    if not isinstance(data, dict) or set(data) != {"source", "reason"}:
        raise InvalidField(name, 'must be {"source": ..., "reason": ...}')
    return {
        "source": short_text(f"{name}.source", data["source"], 64),
        "reason": short_text(f"{name}.reason", data["reason"], 200),
    }


def parse_heartbeat(data: Any) -> Heartbeat:
    """Validate a decoded heartbeat body; raises InvalidField naming the first problem."""
    if not isinstance(data, dict):
        raise InvalidField("body", "must be a JSON object")
    for name in data.keys() - HEARTBEAT_FIELDS:
        raise InvalidField(name, "is not a known field")
    for name in ("room", "encoder", "streams"):
        if name not in data:
            raise InvalidField(name, "is required")
    if not isinstance(data["room"], str) or len(data["room"]) > 64:
        raise InvalidField("room", "must be a room name")
    encoder = require_str("encoder", data["encoder"], ENCODER_NAME, "must be 1-64 letters, digits, '.', '_' or '-'")
    interval = require_int("interval", data.get("interval", DEFAULT_INTERVAL), low=MIN_INTERVAL, high=MAX_INTERVAL)
    streams = data["streams"]
    if not isinstance(streams, list):
        raise InvalidField("streams", "must be a list")
    if len(streams) > MAX_STREAMS:
        raise InvalidField("streams", f"must have at most {MAX_STREAMS} entries")
    parsed = [parse_stream(f"streams[{i}]", stream) for i, stream in enumerate(streams)]
    metrics = parse_metrics(data["metrics"]) if "metrics" in data else {}
    return Heartbeat(room=data["room"], encoder=encoder, interval=interval, streams=parsed, metrics=metrics)


def url_host(address: str) -> str:
    """An address as it goes into a URL (IPv6 in brackets)."""
    try:
        return f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    except ValueError:
        return address


def legacy_number(key: str, value: Any) -> int:
    # Old register clients send counts as numbers or as digit strings.
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return require_int(key, value, low=0, high=MAX_BITRATE)


def parse_legacy_streams(stats: Any, *, room: str, address: str, url_template: str) -> list[dict[str, Any]]:
    """Streams from a legacy `data` object with `<format>_<quality>_clients` keys."""
    if not isinstance(stats, dict):
        raise InvalidField("data", "must be a JSON object")
    streams = []
    for stat_key, clients in sorted(stats.items()):
        match = LEGACY_STREAM_KEY.match(stat_key)
        if not match or match["format"] == "overall":
            continue
        fmt, quality = match["format"], match["quality"]
        check_format(stat_key, fmt)
        url = url_template.format(address=url_host(address), room=room, format=fmt, quality=quality, ext=FORMATS[fmt])
        streams.append(
            {
                "format": fmt,
                "quality": quality,
                "url": check_url("legacy-stream-url", url),
                "clients": legacy_number(stat_key, clients),
                "bitrate": legacy_number(f"{fmt}_{quality}_bitrate", stats.get(f"{fmt}_{quality}_bitrate", 0)),
            }
        )
    if not streams:
        raise InvalidField("data", "has no <format>_<quality>_clients entry")
    if len(streams) > MAX_STREAMS:
        raise InvalidField("data", f"has more than {MAX_STREAMS} streams")
    return streams
