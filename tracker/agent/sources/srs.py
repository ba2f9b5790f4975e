"""SRS (Simple Realtime Server): streams from the HTTP API, /api/v1/streams."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .base import Options, SourceError, Stream, check_expected, clean_quality, fill, origin, to_int
from .fetch import fetch

MAX_PAGES = 50  # bounds the loop if a server ignores `start`


@dataclass
class SrsSource:
    """Every stream with an active publisher becomes a stream.

    SRS returns 10 streams unless asked for more, so the agent passes
    `count` and pages with `start` until a page comes back short. Its
    `clients` includes the publisher; `kbps.recv_30s` is the incoming rate
    over 30 s in kbit/s (the bitrate), `kbps.send_30s` the outgoing one (the
    bandwidth). Streams named in `expect` ("app/name") are reported as errors
    when absent, without a publisher, or receiving 0 kbit/s.
    """

    name: str
    url: str  # the API's base, e.g. http://127.0.0.1:1985
    timeout: float
    public_url: str  # template with {app}, {name} and {vhost}
    format: str = "hls"
    quality: str = "{name}"
    page_size: int = 100
    expect: list[str] = field(default_factory=list)  # "app/name" of streams that must be live

    def collect(self) -> list[Stream]:
        found: dict[str, Stream] = {}
        health: dict[str, str] = {}
        for page in range(MAX_PAGES):
            items = self.page(page * self.page_size)
            for item in items:
                stream = self.stream(item)
                name = f"{item.get('app', '')}/{item.get('name', '')}"
                if stream is None:
                    health.setdefault(name, "has no publisher")
                    continue
                health[name] = "" if stream.bitrate else "receives 0 bit/s"
                # Keyed by id: a stream starting between two pages shifts the list.
                found.setdefault(str(item.get("id", item.get("url"))), stream)
            if len(items) < self.page_size:
                break
        return check_expected(list(found.values()), expect=self.expect, seen=health, what="stream")

    def page(self, start: int) -> list[dict[str, Any]]:
        url = f"{self.url}/api/v1/streams?start={start}&count={self.page_size}"
        try:
            document = json.loads(fetch(url, timeout=self.timeout))
        except ValueError:
            raise SourceError("/api/v1/streams is not valid JSON") from None
        if not isinstance(document, dict):
            raise SourceError("/api/v1/streams did not answer an object")
        if document.get("code", 0) != 0:
            raise SourceError(f"/api/v1/streams answered code {document.get('code')}")
        items = document.get("streams", [])
        if not isinstance(items, list):
            raise SourceError("/api/v1/streams: streams is not a list")
        return [item for item in items if isinstance(item, dict)]

    def stream(self, item: dict[str, Any]) -> Stream | None:
        publish = item.get("publish")
        if not isinstance(publish, dict) or not publish.get("active"):
            return None  # players waiting on a stream nobody publishes
        app, name = str(item.get("app", "")), str(item.get("name", ""))
        values = {"app": app, "name": name, "vhost": str(item.get("vhost", ""))}
        found = item.get("kbps")
        kbps: dict[str, Any] = found if isinstance(found, dict) else {}
        return Stream(
            self.format,
            fill(self.public_url, **values),
            max(0, to_int(item.get("clients")) - 1),  # minus the publisher
            to_int(kbps.get("recv_30s")) * 1000,
            clean_quality(fill(self.quality, **values)),
            to_int(kbps.get("send_30s")) * 1000,
        )


def api_base(url: str) -> str:
    """Accept either the API's base URL or the full /api/v1/streams URL."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/api/v1/streams"):
        path = path[: -len("/api/v1/streams")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def from_config(options: Options, *, name: str, timeout: float) -> SrsSource:
    url = api_base(options.url("url", required=True) or "")
    return SrsSource(
        name=name,
        url=url,
        timeout=timeout,
        # SRS's default http_server (port 8080) serves HLS as /{app}/{stream}.m3u8.
        public_url=options.url("public_url", origin(url) + ":8080/{app}/{name}.m3u8") or "",
        format=options.format(default="hls") or "hls",
        quality=options.text("quality", "{name}") or "",
        page_size=int(options.number("count", 100, low=10, high=10000)),
        expect=options.names("expect") or [],
    )


KEYS = {"url", "public_url", "format", "quality", "count", "expect", "timeout"}
