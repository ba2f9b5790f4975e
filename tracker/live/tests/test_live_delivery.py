"""The hub's frames through real daphne: written to the kernel at once while a
socket keeps up, through Twisted's buffer once it does not, never reordered;
and in the same order through daphne's ASGI send with direct writes off."""

import base64
import json
import os
import socket
import struct
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from testing.factories import report
from testing.processes import Site, running, wait_for

CHANGES = 150
# Big room messages (32 streams with long URLs, ~40 KB each), so a reader
# that pauses leaves megabytes in the server's buffers.
STREAMS = 32


def streams(change: int) -> list[dict]:
    return [
        {"format": "hls", "quality": f"q{i}", "url": f"https://cdn.example/{change}/{i}/{'x' * 1000}.m3u8"}
        | {"clients": 0, "bitrate": 1}
        for i in range(STREAMS)
    ]


class SlowReader:
    """A websocket client on a plain socket with a tiny receive buffer, reading only when asked."""

    def __init__(self, site: Site) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", int(site.url.rsplit(":", 1)[1])))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {site.url}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the socket"
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def message(self) -> dict:
        """The next text message (pings and other control frames skipped)."""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload = self._read(length)
            if first & 0x0F == 1:
                return json.loads(payload)

    def close(self) -> None:
        self.sock.close()


def writes(site: Site) -> dict[str, float]:
    """streaming_live_writes_total by path, from the site's /tracker/metrics."""
    with urllib.request.urlopen(site.url + "/tracker/metrics", timeout=5) as response:
        families = text_string_to_metric_families(response.read().decode())
    return {s.labels["path"]: s.value for f in families if f.name == "streaming_live_writes" for s in f.samples}


@pytest.fixture(params=["1", "0"], ids=["direct", "asgi"])
def delivery_site(request: pytest.FixtureRequest, site_env: dict[str, str], tmp_path: Path) -> Iterator[Site]:
    """The site, with LIVE_DIRECT_WRITES on, then off; without a worker, whose judgement of the room
    would put its own messages among the test's changes (the delivery under test is the web process's)."""
    with running({**site_env, "LIVE_DIRECT_WRITES": request.param}, tmp_path, worker=False) as site:
        yield site


async def test_a_reader_that_falls_behind_gets_every_change_in_order(delivery_site: Site, tmp_path: Path):
    site = delivery_site
    direct = site.env["LIVE_DIRECT_WRITES"] == "1"
    reader = SlowReader(site)
    try:
        snapshot = reader.message()
        for change in range(CHANGES):  # megabytes while the reader does not read
            await report("example", "cam-1", *streams(change))

        messages = [reader.message() for _ in range(CHANGES)]
    finally:
        reader.close()

    assert [m["version"] for m in messages] == list(range(snapshot["version"] + 1, snapshot["version"] + 1 + CHANGES))
    assert [m["room"]["streams"][0]["url"].split("/")[3] for m in messages] == [str(c) for c in range(CHANGES)]

    # The probe's line in daphne's log, and every broadcast by the path it says (the hub reports each second;
    # the snapshot is not a broadcast).
    daphne_log = next(tmp_path.glob("*-0.log")).read_text()
    assert ("live sockets: direct writes engaged" if direct else "direct writes off (LIVE_DIRECT_WRITES)") in daphne_log
    wait_for(lambda: sum(writes(site).values()) >= CHANGES, timeout=10, what="the write counts")
    counted = writes(site)
    assert counted == ({"direct": CHANGES, "asgi": 0} if direct else {"direct": 0, "asgi": CHANGES}), counted
