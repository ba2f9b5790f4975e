"""Sources: what the agent reads on the encoder machine. One module per server type."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from . import hls_probe, icecast, nginx_rtmp, srs, static
from .base import Clock, ConfigError, Incomplete, Options, Source, SourceError, Stream

__all__ = ["TYPES", "ConfigError", "Incomplete", "Source", "SourceError", "Stream", "build_sources"]

TYPES = {
    "icecast": icecast,
    "nginx_rtmp": nginx_rtmp,
    "srs": srs,
    "hls_probe": hls_probe,
    "static": static,
}


def build_sources(entries: list[Any], *, timeout: float, clock: Clock = time.monotonic) -> list[Source]:
    """Sources from config entries such as {"type": "icecast", "url": "…"}.

    Names default to the type, numbered when a type repeats (srs, srs-2); they
    are what metrics.errors and the log lines call a source.
    """
    sources: list[Source] = []
    names: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"sources[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: must be an object")
        kind = entry.get("type")
        if kind not in TYPES:
            raise ConfigError(f"{where}: 'type' must be one of {', '.join(TYPES)}")
        module = TYPES[kind]
        options = Options(entry, where, module.KEYS)
        name = options.text("name")
        if name is None:
            name, number = kind, 1
            while name in names:
                number += 1
                name = f"{kind}-{number}"
        elif not 1 <= len(name) <= 64:
            raise ConfigError(f"{where}: 'name' must be 1-64 characters")
        elif name in names:
            raise ConfigError(f"{where}: another source is already named {name!r}")
        names.add(name)
        source_timeout = options.number("timeout", timeout, low=0.1, high=60) if "timeout" in module.KEYS else timeout
        if module in (hls_probe, icecast, nginx_rtmp):  # they measure over time
            sources.append(module.from_config(options, name=name, timeout=source_timeout, clock=clock))
        else:
            sources.append(module.from_config(options, name=name, timeout=source_timeout))
    return sources
