"""nginx with the RTMP module: streams from the /stat XML (rtmp_stat all)."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from .base import Clock, Options, Rates, SourceError, Stream, check_expected, clean_quality, fill, origin, to_int
from .fetch import fetch


@dataclass
class NginxRtmpSource:
    """Every published stream of the listed applications becomes a stream.

    nginx-rtmp knows only RTMP: `nclients` counts the publisher plus RTMP
    players, never viewers fetching the HLS or DASH nginx writes to disk (those
    are plain HTTP requests nginx-rtmp does not see). The agent reports the
    RTMP players; add an `hls_probe` source to watch the HLS output.
    `bw_in` is the publisher's incoming rate in bit/s: the stream's bitrate;
    `bw_out` what goes out to the RTMP players: its bandwidth. Streams named in
    `expect` ("app/name") are reported as errors when absent, without a
    publisher, or receiving 0 bit/s.

    nginx-rtmp works `bw_in` out every 10 s, so for up to 10 s after a
    publisher (re)connects it says 0 bit/s while the stream plays. Its byte
    counter (`bytes_in`) moves at once: a stream whose counter grew since the
    last poll is receiving, at the rate the counter shows; one seen for the
    first time (a publisher just back) has an unknown rate, not 0, so it is
    well as soon as its publisher is back, and silent only if its counter
    then stands still.
    """

    name: str
    url: str
    timeout: float
    public_url: str  # template with {app} and {name}
    format: str = "hls"
    quality: str = "{name}"
    applications: list[str] | None = None  # None: all
    expect: list[str] = field(default_factory=list)  # "app/name" of streams that must be live
    clock: Clock = time.monotonic
    _rates: Rates = field(init=False)

    def __post_init__(self) -> None:
        self._rates = Rates(self.clock)

    def collect(self) -> list[Stream]:
        body = fetch(self.url, timeout=self.timeout)
        try:
            # What a server answers is not trusted: no DTD, so no entity bomb or external entity.
            root = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
        except DefusedXmlException:
            raise SourceError("/stat has a DOCTYPE, refused (entity expansion is not allowed)") from None
        except ET.ParseError as exc:
            raise SourceError(f"/stat is not valid XML ({exc})") from None
        if root.tag != "rtmp":
            raise SourceError(f"/stat has <{root.tag}> at its root, not <rtmp>")
        streams = []
        seen: dict[str, str] = {}
        for application in root.iterfind("server/application"):
            app = application.findtext("name", "")
            if self.applications is not None and app not in self.applications:
                continue
            for stream in application.iterfind("live/stream"):
                name = stream.findtext("name", "")
                bitrate: int | None = to_int(stream.findtext("bw_in"))
                # A stream element stays while players wait for a publisher that left.
                if stream.find("publishing") is None:
                    seen[f"{app}/{name}"] = "has no publisher"
                    continue
                measured = self._rates.rate(f"{app}/{name}", to_int(stream.findtext("bytes_in")))
                if not bitrate:
                    # bw_in not worked out yet: the counter tells; on first sight (a publisher
                    # that has just connected, maybe before its first byte) nobody can: unknown.
                    bitrate = measured
                seen[f"{app}/{name}"] = "" if bitrate != 0 else "receives 0 bit/s"
                players = max(0, to_int(stream.findtext("nclients")) - 1)  # minus the publisher
                streams.append(
                    Stream(
                        self.format,
                        fill(self.public_url, app=app, name=name),
                        players,
                        bitrate,
                        clean_quality(fill(self.quality, app=app, name=name)),
                        to_int(stream.findtext("bw_out")),
                    )
                )
        self._rates.keep_only({key for key, problem in seen.items() if problem != "has no publisher"})
        return check_expected(streams, expect=self.expect, seen=seen, what="stream")


def from_config(options: Options, *, name: str, timeout: float, clock: Clock = time.monotonic) -> NginxRtmpSource:
    url = options.url("url", required=True) or ""
    return NginxRtmpSource(
        name=name,
        url=url,
        timeout=timeout,
        # nginx-rtmp's usual layout: `hls_path` served by the same nginx under /hls/.
        public_url=options.url("public_url", origin(url) + "/hls/{name}.m3u8") or "",
        format=options.format(default="hls") or "hls",
        quality=options.text("quality", "{name}") or "",
        applications=options.names("applications"),
        expect=options.names("expect") or [],
        clock=clock,
    )


KEYS = {"url", "public_url", "format", "quality", "applications", "expect", "timeout"}
