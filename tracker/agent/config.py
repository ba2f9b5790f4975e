"""The agent's settings: command-line options over the environment over a config file.

The config file is JSON; lines starting with `//` are comments, as in the
tracker's own rooms config. Every key is optional in the file when the
command line gives it:

    {
      "tracker": "https://streaming.example.org",
      "token_file": "/etc/encoder-agent/token",   // or "token": "…"
      "room": "main-hall",
      "encoder": "cam-1",                           // default: the host name
      "interval": 10,
      "transport": "auto",                          // auto, websocket, http, legacy
      "sources": [{"type": "icecast", "url": "http://127.0.0.1:8000/status-json.xsl"}]
    }
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .sources import TYPES, ConfigError
from .transports import MODES

log = logging.getLogger("tracker.agent")

TOKEN_ENV = "ENCODER_AGENT_TOKEN"
FILE_KEYS = {"tracker", "token", "token_file", "room", "encoder", "interval", "transport", "timeout", "sources"}
# As the tracker reads them (tracker/encoders/heartbeat.py; tracker/tests/agent/test_limits.py compares).
ENCODER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")  # \Z: "$" would let a trailing newline through
MIN_INTERVAL, MAX_INTERVAL = 1, 300


@dataclass(frozen=True)
class AgentConfig:
    tracker: str
    token: str = field(repr=False)  # never printed, never logged
    room: str
    encoder: str
    interval: int = 10
    transport: str = "auto"
    timeout: float = 5.0
    sources: list[dict[str, Any]] = field(default_factory=list)


def read_file(path: Path) -> dict[str, Any]:
    """A JSON config file whose `//` lines are comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    lines = ["" if line.lstrip().startswith("//") else line for line in text.splitlines()]
    try:
        data = json.loads("\n".join(lines))
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must hold a JSON object")
    for key in data.keys() - FILE_KEYS:
        raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(sorted(FILE_KEYS))})")
    if "token" in data:
        warn_if_readable(path, "holds the token")
    return data


def warn_if_readable(path: Path, what: str) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("%s %s and is readable by other users: chmod 600 it", path, what)


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"token file {path}: cannot read ({exc.strerror})") from None
    warn_if_readable(path, "is a token file")
    return token


def check_tracker(url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise ConfigError("tracker: required (the tracker's base URL, e.g. https://streaming.example.org)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"tracker: {url!r} must be an http or https URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        # Secrets never go into URLs: proxies and access logs keep them.
        raise ConfigError("tracker: must not carry credentials, a query or a fragment (give the token by file)")
    return url.rstrip("/")


def default_encoder() -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", socket.gethostname())[:64].strip("-")
    return name or "encoder"


def source_option(value: str) -> dict[str, Any]:
    """`TYPE=URL` from the command line, e.g. `icecast=http://127.0.0.1:8000/status-json.xsl`."""
    kind, sep, url = value.partition("=")
    if not sep or kind not in TYPES or kind == "static":
        kinds = ", ".join(t for t in TYPES if t != "static")
        raise ConfigError(f"--source {value!r}: use TYPE=URL with TYPE one of {kinds} (static needs the config file)")
    return {"type": kind, "url": url}


def resolve(options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> AgentConfig:
    """Merge command-line `options` (None: not given) over the environment over the config file."""
    given = {key: value for key, value in options.items() if value is not None}
    values = read_file(Path(given["config"])) if "config" in given else {}
    values.update({key: value for key, value in given.items() if key in FILE_KEYS})

    token = None
    if "token_file" in given:
        token = read_token(Path(given["token_file"]))
    elif environ.get(TOKEN_ENV):
        token = environ[TOKEN_ENV].strip()
    elif "token_file" in values:
        token = read_token(Path(values["token_file"]))
    elif "token" in values:
        token = values["token"]
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        raise ConfigError(f"token: required, one word (--token-file, ${TOKEN_ENV}, or token_file in the config file)")

    room = values.get("room")
    if not isinstance(room, str) or not room:
        raise ConfigError("room: required")
    encoder = values.get("encoder") or default_encoder()
    if not isinstance(encoder, str) or not ENCODER_NAME.match(encoder):
        raise ConfigError("encoder: must be 1-64 letters, digits, '.', '_' or '-'")
    interval = values.get("interval", 10)
    if isinstance(interval, bool) or not isinstance(interval, int) or not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise ConfigError(f"interval: must be a whole number of seconds from {MIN_INTERVAL} to {MAX_INTERVAL}")
    transport = "legacy" if given.get("legacy") else values.get("transport", "auto")
    if transport not in MODES:
        raise ConfigError(f"transport: must be one of {', '.join(MODES)}")
    timeout = values.get("timeout", 5.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0.1 <= timeout <= 60:
        raise ConfigError("timeout: must be a number of seconds from 0.1 to 60")
    sources = values.get("sources", [])
    if not isinstance(sources, list):
        raise ConfigError("sources: must be a list")
    sources = sources + [source_option(value) for value in given.get("source", [])]
    return AgentConfig(
        tracker=check_tracker(values.get("tracker")),
        token=token,
        room=room,
        encoder=encoder,
        interval=interval,
        transport=transport,
        timeout=float(timeout),
        sources=sources,
    )
