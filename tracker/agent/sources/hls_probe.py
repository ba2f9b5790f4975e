"""HLS probe: is a playlist still moving? A stalled encoder often keeps serving its last playlist."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .base import Clock, Options, SourceError, Stream, clean_quality, to_int
from .fetch import fetch


@dataclass(frozen=True)
class MediaPlaylist:
    target_duration: float
    media_sequence: int
    segments: int
    ended: bool

    @property
    def next_sequence(self) -> int:
        """The number the next segment will get. It moves when a segment is added,
        including in EVENT playlists, whose media sequence stays put."""
        return self.media_sequence + self.segments


@dataclass(frozen=True)
class Variant:
    uri: str
    bandwidth: int


def parse_playlist(text: str) -> MediaPlaylist | list[Variant]:
    """A media playlist, or a master playlist's variants (RFC 8216)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise SourceError("not an HLS playlist (no #EXTM3U)")
    variants: list[Variant] = []
    target, sequence, segments, ended = None, 0, 0, False
    for index, line in enumerate(lines):
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-STREAM-INF" and index + 1 < len(lines) and not lines[index + 1].startswith("#"):
            bandwidth = next((a[10:] for a in value.split(",") if a.startswith("BANDWIDTH=")), "0")
            variants.append(Variant(lines[index + 1], to_int(bandwidth)))
        elif tag == "#EXT-X-TARGETDURATION":
            target = float(to_int(value))
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            sequence = to_int(value)
        elif tag == "#EXTINF":
            segments += 1
        elif tag == "#EXT-X-ENDLIST":
            ended = True
    if variants:
        return variants
    if not target:
        raise SourceError("not an HLS media playlist (no #EXT-X-TARGETDURATION)")
    return MediaPlaylist(target, sequence, segments, ended)


@dataclass
class HlsProbe:
    """Reports one HLS stream while its playlist advances, an error once it stops.

    The playlist is stalled when no segment was added for more than
    `stall_after` target durations. A stalled stream is left out of the
    heartbeat: viewers sent to it would watch a frozen picture. A master
    playlist is followed to its first variant.
    """

    name: str
    url: str
    timeout: float
    public_url: str
    quality: str | None = None
    bitrate: int = 0  # bit/s; a master playlist's BANDWIDTH when left at 0
    clients: int = 0  # a playlist says nothing about viewers
    stall_after: float = 3.0
    clock: Clock = time.monotonic
    _last_sequence: int | None = field(default=None, init=False)
    _last_change: float = field(default=0.0, init=False)

    def collect(self) -> list[Stream]:
        playlist = parse_playlist(self.read(self.url))
        bitrate = self.bitrate
        if isinstance(playlist, list):
            variant = playlist[0]
            bitrate = bitrate or variant.bandwidth
            playlist = parse_playlist(self.read(urljoin(self.url, variant.uri)))
            if isinstance(playlist, list):
                raise SourceError("the master playlist's first variant is another master playlist")
        self.check_progress(playlist)
        return [Stream("hls", self.public_url, self.clients, bitrate, self.quality)]

    def read(self, url: str) -> str:
        return fetch(url, timeout=self.timeout).decode("utf-8", errors="replace")

    def check_progress(self, playlist: MediaPlaylist) -> None:
        now = self.clock()
        if playlist.ended:
            raise SourceError("playlist ended (#EXT-X-ENDLIST)")
        if playlist.next_sequence != self._last_sequence:
            # Any change counts, a lower number too: that is an encoder restart.
            self._last_sequence, self._last_change = playlist.next_sequence, now
            return
        limit = self.stall_after * playlist.target_duration
        if now - self._last_change > limit:
            raise SourceError(
                f"stalled: media sequence stuck at {playlist.media_sequence} "
                f"for more than {self.stall_after:g} target durations ({limit:g} s)"
            )


def from_config(options: Options, *, name: str, timeout: float, clock: Clock = time.monotonic) -> HlsProbe:
    url = options.url("url", required=True) or ""
    quality = options.text("quality")
    return HlsProbe(
        name=name,
        url=url,
        timeout=timeout,
        public_url=options.url("public_url", url) or url,
        quality=clean_quality(quality) if quality else None,
        bitrate=int(options.number("bitrate", 0, low=0, high=100e9)),
        clients=int(options.number("clients", 0, low=0, high=10e6)),
        stall_after=options.number("stall_after", 3, low=1, high=100),
        clock=clock,
    )


KEYS = {"url", "public_url", "quality", "bitrate", "clients", "stall_after", "timeout"}
