"""Validation of what encoders send, before anything is written."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tracker.encoders.state_machine import outgoing
from tracker.safetext import InvalidField as InvalidField  # re-exported: callers catch what parsing raises
from tracker.safetext import check_text, check_tree

FORMATS = frozenset({"hls", "dash", "webm", "mp4", "audio"})
ENCODER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
QUALITY = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")
DEFAULT_INTERVAL = 10
MIN_INTERVAL, MAX_INTERVAL = 1, 300
MAX_STREAMS = 32
MAX_URL_LENGTH = 2048
MAX_CLIENTS = 10_000_000
MAX_BITRATE = 100_000_000_000  # 100 Gbit/s: anything above is a unit mistake
MAX_BANDWIDTH = MAX_BITRATE * MAX_CLIENTS
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
STREAM_FIELDS = {"format", "url", "quality", "clients", "bitrate", "bandwidth", "language", "mime"}
# The media type browsers get for a stream, with its codec: "audio/mpeg", "audio/ogg; codecs=opus".
MIME = re.compile(r"^[a-z]+/[a-z0-9.+-]{1,40}(; ?codecs=\"?[A-Za-z0-9.,+ -]{1,40}\"?)?\Z")
# A stream's spoken language (a translation), as a BCP 47 tag: "en", "de", "pt-BR".
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,2}\Z")


@dataclass(frozen=True)
class Heartbeat:
    room: str
    encoder: str
    interval: int
    streams: list[dict[str, Any]]
    metrics: dict[str, Any] = field(default_factory=dict)
    # From the legacy register endpoint only (tracker/encoders/legacy.py): streams counted
    # but not offered, the encoder's own totals, and figures nobody defined.
    counted: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)


def decode_json(data: str | bytes) -> Any:
    """JSON from a client; anything that is not (bad UTF-8, absurd nesting) is an InvalidField."""
    try:
        decoded = json.loads(data)
    except (ValueError, RecursionError):  # ValueError also covers integers of thousands of digits
        raise InvalidField("body", "is not valid JSON") from None
    # Strings Redis's Lua, XML or a log line cannot carry are refused here, before anything is stored.
    check_tree(decoded)
    return decoded


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
    check_text(field, value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:  # "http://[::1": an unclosed IPv6 bracket, a bad port
        raise InvalidField(field, "must be an http or https URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField(field, "must be an http or https URL")
    return value


def check_format(field: str, value: Any) -> str:
    if not isinstance(value, str) or value not in FORMATS:
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
        # null: unknown (a server that announces none, before the agent measured it), never taken for 0.
        "bitrate": None
        if data["bitrate"] is None
        else require_int(f"{field}.bitrate", data["bitrate"], low=0, high=MAX_BITRATE),
    }
    if "bandwidth" in data:  # measured by the streaming server (bytes out)
        stream["bandwidth"] = require_int(f"{field}.bandwidth", data["bandwidth"], low=0, high=MAX_BANDWIDTH)
    if (bandwidth := outgoing(stream)) is not None:
        stream["bandwidth"] = bandwidth
    if "mime" in data:
        stream["mime"] = require_str(f"{field}.mime", data["mime"], MIME, "must be a media type like audio/mpeg")
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
    return check_text(name, value)


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
        if not name:  # the answer must still name a field
            raise InvalidField("body", "has a field with an empty name")
        raise InvalidField(name, "is not a known field")
    for name in ("room", "encoder", "streams"):
        if name not in data:
            raise InvalidField(name, "is required")
    if not isinstance(data["room"], str) or len(data["room"]) > 64:
        raise InvalidField("room", "must be a room name")
    check_text("room", data["room"])
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
