"""nginx with the RTMP module: streams from the /stat XML (rtmp_stat all)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from .base import Options, SourceError, Stream, clean_quality, fill, origin, to_int
from .fetch import fetch


@dataclass
class NginxRtmpSource:
    """Every published stream of the listed applications becomes a stream.

    nginx-rtmp knows only RTMP: `nclients` counts the publisher plus RTMP
    players, never viewers fetching the HLS or DASH nginx writes to disk (those
    are plain HTTP requests nginx-rtmp does not see). The agent reports the
    RTMP players; add an `hls_probe` source to watch the HLS output.
    `bw_in` is the publisher's incoming rate in bit/s: the stream's bitrate.
    """

    name: str
    url: str
    timeout: float
    public_url: str  # template with {app} and {name}
    format: str = "hls"
    quality: str = "{name}"
    applications: list[str] | None = None  # None: all

    def collect(self) -> list[Stream]:
        body = fetch(self.url, timeout=self.timeout)
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise SourceError(f"/stat is not valid XML ({exc})") from None
        if root.tag != "rtmp":
            raise SourceError(f"/stat has <{root.tag}> at its root, not <rtmp>")
        streams = []
        for application in root.iterfind("server/application"):
            app = application.findtext("name", "")
            if self.applications is not None and app not in self.applications:
                continue
            for stream in application.iterfind("live/stream"):
                # A stream element stays while players wait for a publisher that left.
                if stream.find("publishing") is None:
                    continue
                name = stream.findtext("name", "")
                players = max(0, to_int(stream.findtext("nclients")) - 1)  # minus the publisher
                streams.append(
                    Stream(
                        self.format,
                        fill(self.public_url, app=app, name=name),
                        players,
                        to_int(stream.findtext("bw_in")),
                        clean_quality(fill(self.quality, app=app, name=name)),
                    )
                )
        return streams


def from_config(options: Options, *, name: str, timeout: float) -> NginxRtmpSource:
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
    )


KEYS = {"url", "public_url", "format", "quality", "applications", "timeout"}
