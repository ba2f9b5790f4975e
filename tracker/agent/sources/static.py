"""Static streams from the config, for setups with nothing to read."""

from __future__ import annotations

from dataclasses import dataclass

from .base import FORMATS, ConfigError, Options, Stream, clean_quality


@dataclass
class StaticSource:
    """Reports the configured streams as they are, every heartbeat."""

    name: str
    streams: list[Stream]

    def collect(self) -> list[Stream]:
        return list(self.streams)


def from_config(options: Options, *, name: str, timeout: float) -> StaticSource:
    entries = options.entry.get("streams")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{options.where}: 'streams' must be a non-empty list")
    streams = []
    for index, entry in enumerate(entries):
        where = f"{options.where}.streams[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be an object")
        stream = Options(entry, where, {"format", "url", "quality", "clients", "bitrate"})
        quality = stream.text("quality")
        if quality is not None and clean_quality(quality) != quality:
            raise ConfigError(f"{where}: 'quality' must be 1-32 letters, digits, '_' or '-'")
        fmt = stream.format()
        if fmt is None:
            raise ConfigError(f"{where}: 'format' is required (one of {', '.join(FORMATS)})")
        streams.append(
            Stream(
                format=fmt,
                url=stream.url("url", required=True) or "",
                clients=int(stream.number("clients", 0, low=0, high=10e6)),
                bitrate=int(stream.number("bitrate", 0, low=0, high=100e9)),
                quality=quality,
            )
        )
    return StaticSource(name=name, streams=streams)


KEYS = {"streams"}
