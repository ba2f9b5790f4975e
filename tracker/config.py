"""Rooms configuration: config.json overlaid by config.private.json.

The format is the one sites of this kind have used for years: JSON with
`//` comment lines, a global `config` object, per-room `default`s, then one
object per room. Every problem is reported as one line naming file, room and
key, because the person reading it is setting up an event in a hurry.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytz
from django.conf import settings

from tracker.encoders import legacy
from tracker.safetext import bad_character

MAIN_FILE = "config.json"
PRIVATE_FILE = "config.private.json"

ROOM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
# Room pages live at /<room>, so a room may not shadow the site's own paths.
RESERVED_NAMES = frozenset(
    {"tracker", "static", "ws", "admin", "api", "monitor", "graphs", "programme", "favicon.ico", "healthz", "readyz"}
)
PLACEHOLDER_SECRETS = frozenset({"change-me", "changeme", "secret", "xxx"})
MIN_SECRET_LENGTH = 16
# Any room may say `"enabled": false` to be left out everywhere (`"room": null` removes it too).
ENABLED = "enabled"

# Global keys with their default values; the default's type is the key's type.
GLOBAL_DEFAULTS: dict[str, Any] = {
    "secret": "",
    "localips": [],
    "grace": 5,
    # An encoder silent this many seconds is degraded.
    "degraded-silence": 30,
    # An encoder whose heartbeats carry no playable stream this many seconds is degraded.
    "degraded-no-streams": 60,
    # Heartbeats accepted per encoder token per second; more get 429.
    "heartbeat-rate": 5,
    # Viewer sockets, and the browser tabs counted as viewers, per client
    # address and web process; addresses in `localips` (the venue) are exempt.
    "viewer-sockets-per-address": 20,
    "viewer-tabs-per-address": 10,
    # How long transition logs and stats history are kept.
    "history-hours": 24,
    # Alerts: JSON POSTed to each URL on down and on recovery, and sent to each
    # Apprise URL of `notify` (chat, e-mail, push; rooms add their own).
    "webhooks": [],
    "notify": [],
    "alert-suppress-minutes": 10,
    # A room's viewers are failing when this many distinct client addresses,
    # or this percentage of the addresses reporting playback (at least two),
    # failed to play or reported a problem within the last so many seconds.
    # A room may set its own in its config (add the key to "default" first).
    "viewers-failing-clients": 3,
    "viewers-failing-percent": 50,
    "viewers-failing-seconds": 30,
    # Planned maintenance: [{"room", "encoder" (optional), "from", "to", "reason"}],
    # times as 2026-12-06T22:00 in the room's schedule-timezone (or with an offset).
    "maintenance": [],
    # /tracker/metrics: a bearer token, or callers from these addresses.
    "metrics-token": "",
    "metrics-allow": ["127.0.0.1", "::1"],
    # Schedules are fetched this often; gaps longer than break-minutes show as a break.
    "schedule-minutes": 5,
    "break-minutes": 15,
    # The viewers' pages: the event's name, logo and favicon (URLs), accent colour (#rrggbb).
    "event-name": "Live streams",
    "event-logo": "",
    "event-favicon": "",
    "event-accent": "",
    # The event's time zone: pages and the dashboard show times in it ("": the first scheduled room's).
    "event-timezone": "",
}
# Global settings a room may set for itself (after adding them to "default").
ROOM_OVERRIDES = ("viewers-failing-clients", "viewers-failing-percent", "viewers-failing-seconds")
ACCENT_COLOUR = re.compile(r"^(#[0-9A-Fa-f]{6})?\Z")
# Whole-number global settings and their allowed ranges.
GLOBAL_RANGES = {
    "grace": (1, 600),
    "degraded-silence": (1, 3600),
    "degraded-no-streams": (1, 3600),
    "heartbeat-rate": (1, 1000),
    "viewer-sockets-per-address": (1, 100_000),
    "viewer-tabs-per-address": (1, 100_000),
    "history-hours": (1, 24 * 14),
    "alert-suppress-minutes": (0, 24 * 60),
    "viewers-failing-clients": (1, 100_000),
    "viewers-failing-percent": (1, 100),
    "viewers-failing-seconds": (5, 3600),
    "schedule-minutes": (1, 24 * 60),
    "break-minutes": (1, 24 * 60),
}


class ConfigError(Exception):
    """A problem in the rooms configuration, as one line for a person."""

    def __init__(self, file: str, message: str, *, room: str | None = None, key: str | None = None):
        where = [file]
        if room is not None:
            where.append(f"room {room!r}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(": ".join([*where, message]))


@dataclass(frozen=True)
class Room:
    name: str
    settings: dict[str, Any]

    @property
    def title(self) -> str:
        return self.settings.get("title") or self.name

    def setting(self, key: str, site: dict[str, Any]) -> Any:
        """The room's own value of a global setting that rooms may override (checked when read), else the site's."""
        value = self.settings.get(key)
        return site[key] if value is None else value


@dataclass(frozen=True)
class SiteConfig:
    secret: str
    settings: dict[str, Any]  # the global `config` object, defaults filled in
    rooms: dict[str, Room] = field(default_factory=dict)

    @property
    def grace(self) -> int:
        return self.settings["grace"]

    @property
    def timezone(self) -> str:
        """The event's time zone, in which pages and the dashboard show times: `event-timezone`,
        else that of the first room with a schedule, else UTC."""
        zones = (
            room.settings.get("schedule-timezone") for room in self.rooms.values() if room.settings.get("schedule")
        )
        return self.settings["event-timezone"] or next((zone for zone in zones if zone), "UTC")


def read_commented_json(path: Path) -> dict[str, Any]:
    """Parse a JSON file whose lines starting with `//` are comments."""
    text = path.read_text(encoding="utf-8")
    # Blank the comment lines instead of dropping them so line numbers in
    # error messages still match the file.
    lines = ["" if line.lstrip().startswith("//") else line for line in text.splitlines()]
    try:
        data = json.loads("\n".join(lines))
    except json.JSONDecodeError as exc:
        raise ConfigError(path.name, f"line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(path.name, "the top level must be an object")
    return data


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "list", dict: "object", type(None): "null"}[type(value)]


def check_type(file: str, key: str, value: Any, default: Any, *, room: str | None = None) -> None:
    if default is not None and json_type(value) != json_type(default):
        raise ConfigError(file, f"must be a {json_type(default)}, not a {json_type(value)}", room=room, key=key)


def check_characters(merged: dict[str, Any], origin: Callable[..., str]) -> None:
    """Every string of the config is one that pages, feeds and Redis can carry (titles end up in all three)."""
    for section, values in merged.items():
        for key, value in values.items() if isinstance(values, dict) else [(None, values)]:
            texts = value if isinstance(value, list) else [value]
            for text in texts:
                problem = bad_character(text) if isinstance(text, str) else None
                if problem:
                    where = (section, key) if key is not None else (section,)
                    raise ConfigError(origin(*where), problem, room=section, key=key)


def parse_config(main: dict[str, Any], private: dict[str, Any]) -> SiteConfig:
    """Merge and validate the two files' contents into a SiteConfig."""

    def origin(*path: str) -> str:
        """The file that sets the value at `path`, for error messages."""
        node: Any = private
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return MAIN_FILE
            node = node[part]
        return PRIVATE_FILE

    merged = deep_merge(main, private)
    check_characters(merged, origin)
    for section in ("config", "default"):
        if not isinstance(merged.get(section, {}), dict):
            raise ConfigError(origin(section), f"{section!r} must be an object")

    global_values = {**GLOBAL_DEFAULTS, **merged.get("config", {})}
    for key, value in global_values.items():
        if key not in GLOBAL_DEFAULTS:
            raise ConfigError(origin("config", key), "unknown global setting", room="config", key=key)
        check_type(origin("config", key), key, value, GLOBAL_DEFAULTS[key], room="config")

    secret = global_values["secret"].strip()
    hint = f"put a random secret in {PRIVATE_FILE} (make serve creates one)"
    # Empty turns the legacy register endpoint off (it answers `ERROR CONFIG (No secret)`).
    if secret and secret.lower() in PLACEHOLDER_SECRETS:
        raise ConfigError(origin("config", "secret"), f"is a placeholder; {hint}", room="config", key="secret")
    if secret and len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            origin("config", "secret"),
            f"is shorter than {MIN_SECRET_LENGTH} characters; {hint}",
            room="config",
            key="secret",
        )
    for key, (low, high) in GLOBAL_RANGES.items():
        value = global_values[key]
        if not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                origin("config", key), f"must be a whole number from {low} to {high}", room="config", key=key
            )
    zone = global_values["event-timezone"]
    if zone and zone not in pytz.all_timezones_set:
        where = origin("config", "event-timezone")
        raise ConfigError(where, f"unknown time zone {zone!r}", room="config", key="event-timezone")
    if not ACCENT_COLOUR.match(global_values["event-accent"]):
        accent = origin("config", "event-accent")
        raise ConfigError(accent, "must be a colour like #0b63c5", room="config", key="event-accent")
    for i, entry in enumerate(global_values["localips"]):
        try:
            ipaddress.ip_network(entry, strict=False)
        except (TypeError, ValueError):
            try:
                re.compile(entry)
            except (TypeError, re.error):
                raise ConfigError(
                    origin("config", "localips"), f"entry {i} must be a CIDR or a regex", room="config", key="localips"
                ) from None
    for i, network in enumerate(global_values["metrics-allow"]):
        try:
            ipaddress.ip_network(network, strict=False)
        except (TypeError, ValueError):
            raise ConfigError(
                origin("config", "metrics-allow"),
                f"entry {i} must be an address or network",
                room="config",
                key="metrics-allow",
            ) from None
    for i, url in enumerate(global_values["webhooks"]):
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(
                origin("config", "webhooks"), f"entry {i} must be an http(s) URL", room="config", key="webhooks"
            )

    for key in ("event-logo", "event-favicon"):  # pages put these in src/href as they are
        value = global_values[key]
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ConfigError(origin("config", key), "must be an absolute http(s) URL or empty", room="config", key=key)

    defaults = merged.get("default", {})
    check_apprise_urls(global_values["notify"], origin("config", "notify"), room="config")
    rooms: dict[str, Room] = {}
    for name, values in merged.items():
        if name in ("config", "default") or values is None:
            continue  # null: a room of config.json removed by config.private.json
        if not ROOM_NAME.match(name):
            raise ConfigError(origin(name), "room names use letters, digits, '_' and '-' only", room=name)
        if name.lower() in RESERVED_NAMES:
            raise ConfigError(origin(name), "this name is used by the site itself", room=name)
        if not isinstance(values, dict):
            raise ConfigError(origin(name), "must be an object", room=name)
        for key, value in values.items():
            if key == ENABLED:
                check_type(origin(name, key), key, value, True, room=name)
            elif key not in defaults:
                raise ConfigError(origin(name, key), "is not in 'default'", room=name, key=key)
            else:
                check_type(origin(name, key), key, value, defaults[key], room=name)
        if not values.get(ENABLED, True):
            continue  # checked like any room, then left out: pages, API, dashboard, worker
        values = {key: value for key, value in values.items() if key != ENABLED}
        room = rooms[name] = Room(name=name, settings=deep_merge(defaults, values))
        templates = room.settings.get("legacy-streams", {})
        if not isinstance(templates, dict):
            raise ConfigError(origin(name, "legacy-streams"), "must be an object", room=name, key="legacy-streams")
        problem = legacy.public_host_problem(room.settings.get("legacy-public-host", ""))
        if problem is not None:
            raise ConfigError(origin(name, "legacy-public-host"), problem, room=name, key="legacy-public-host")
        for stream_name, template in templates.items():
            problem = legacy.template_problem(stream_name, template)
            if problem is not None:
                raise ConfigError(origin(name, "legacy-streams"), problem, room=name, key="legacy-streams")
        for key in ROOM_OVERRIDES:
            value = room.settings.get(key)
            low, high = GLOBAL_RANGES[key]
            whole = isinstance(value, int) and not isinstance(value, bool)
            if value is not None and not (whole and low <= value <= high):
                raise ConfigError(origin(name, key), f"must be a whole number from {low} to {high}", room=name, key=key)
        zone = room.settings.get("schedule-timezone")
        if zone is not None and zone not in pytz.all_timezones_set:
            raise ConfigError(
                origin(name, "schedule-timezone"), f"unknown time zone {zone!r}", room=name, key="schedule-timezone"
            )
        check_apprise_urls(room.settings.get("notify", []), origin(name, "notify"), room=name)
    if not rooms:
        raise ConfigError(MAIN_FILE, "no rooms configured")
    for i, window in enumerate(global_values["maintenance"]):
        problem = maintenance_problem(window, rooms)
        if problem is not None:
            file = origin("config", "maintenance")
            raise ConfigError(file, f"entry {i}: {problem}", room="config", key="maintenance")
    return SiteConfig(secret=secret, settings=global_values, rooms=rooms)


def check_apprise_urls(urls: list[Any], file: str, *, room: str) -> None:
    if not urls:
        return
    import apprise  # only when alerts go through Apprise: it loads a plugin per service

    for i, url in enumerate(urls):
        if not isinstance(url, str) or apprise.Apprise.instantiate(url) is None:
            scheme = urlsplit(url).scheme if isinstance(url, str) else ""
            # Never the URL itself: it holds the service's credentials.
            raise ConfigError(
                file, f"entry {i} is not an Apprise URL of a known service (scheme {scheme!r})", room=room, key="notify"
            )


def local_time(text: Any, zone: str) -> float:
    """Epoch seconds of an ISO date-time (2026-12-06T22:00), in `zone` unless it has an offset."""
    if not isinstance(text, str):
        raise ValueError("must be a date-time like 2026-12-06T22:00")
    moment = datetime.fromisoformat(text)  # ValueError for anything else
    if moment.tzinfo is None:
        moment = pytz.timezone(zone).localize(moment)
    return moment.timestamp()


MAINTENANCE_KEYS = {"room", "encoder", "from", "to", "reason"}


def maintenance_problem(window: Any, rooms: dict[str, Room]) -> str | None:
    """What is wrong with a configured maintenance window, or None."""
    if not isinstance(window, dict) or not set(window) <= MAINTENANCE_KEYS:
        return f"must be an object with keys among {', '.join(sorted(MAINTENANCE_KEYS))}"
    room = rooms.get(window.get("room"))  # type: ignore[arg-type]
    if room is None:
        return "room: not a configured room"
    if not isinstance(window.get("encoder", ""), str) or not isinstance(window.get("reason", ""), str):
        return "encoder and reason must be strings"
    try:
        start, end = (
            local_time(window.get(key), room.settings.get("schedule-timezone") or "UTC") for key in ("from", "to")
        )
    except ValueError:
        return "from and to must be date-times like 2026-12-06T22:00"
    return None if start < end else "to must be after from"


def load_config(directory: Path) -> SiteConfig:
    main_path, private_path = directory / MAIN_FILE, directory / PRIVATE_FILE
    if not main_path.exists():
        raise ConfigError(MAIN_FILE, f"not found in {directory}")
    private = read_commented_json(private_path) if private_path.exists() else {}
    return parse_config(read_commented_json(main_path), private)


# Config directory -> its config, read once per process and again on reload.
_loaded: dict[str, SiteConfig] = {}


def get_config() -> SiteConfig:
    """The site's configuration, read once per process (and by reload_config)."""
    # Keyed by the string: this runs several times per heartbeat.
    directory = str(settings.ROOMS_CONFIG_DIR)
    config = _loaded.get(directory)
    if config is None:
        config = _loaded[directory] = load_config(Path(directory))
    return config


def reload_config() -> SiteConfig:
    """Read the files again and run with them; on a ConfigError the running config stays."""
    directory = str(settings.ROOMS_CONFIG_DIR)
    config = _loaded[directory] = load_config(Path(directory))  # assigned only once it parsed
    return config


def reset_cache() -> None:
    _loaded.clear()
