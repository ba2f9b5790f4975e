"""A real Icecast on loopback with a real source (ffmpeg streaming a generated tone),
one real listener, and the agent reporting that listener to the real tracker.

Needs Debian's `icecast2` and `ffmpeg` (apt-get install icecast2 ffmpeg);
skipped with the reason when either is missing.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from testing.processes import free_port, wait_for
from tracker.agent.loop import Agent
from tracker.agent.sources import build_sources
from tracker.agent.transports import build_transport

from .media import Kept, wait_until
from .servers import RealTracker

ICECAST, FFMPEG = shutil.which("icecast2"), shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(
    not (ICECAST and FFMPEG), reason="needs Debian's icecast2 and ffmpeg (apt-get install icecast2 ffmpeg)"
)
WEBROOT = Path("/usr/share/icecast2")


def icecast_config(port: int) -> str:
    # Icecast refuses to run as root; Debian's package makes the icecast2 user for changeowner.
    owner = ""
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("icecast2")
            grp.getgrnam("icecast")
        except KeyError:
            pytest.skip("running as root and the icecast2 user from Debian's package is missing")
        owner = "<changeowner><user>icecast2</user><group>icecast</group></changeowner>"
    return f"""<icecast>
  <limits><clients>10</clients><sources>2</sources><source-timeout>5</source-timeout></limits>
  <authentication><source-password>tone-source</source-password>
    <admin-user>admin</admin-user><admin-password>tone-admin</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>{WEBROOT}</basedir><logdir>/tmp</logdir>
    <webroot>{WEBROOT}/web</webroot><adminroot>{WEBROOT}/admin</adminroot></paths>
  <logging><accesslog>-</accesslog><errorlog>-</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>{owner}</security>
</icecast>"""


@dataclass
class Icecast:
    """A real Icecast on a free loopback port, kept going; its log and its sources' output in one file."""

    port: int
    log_path: Path
    server: Kept

    @property
    def status(self) -> str:
        return f"http://127.0.0.1:{self.port}/status-json.xsl"

    def status_text(self) -> bytes:
        return urllib.request.urlopen(self.status, timeout=1).read()

    def feed(self, mount: str, codec: list[str], sample_rate: int) -> Kept:
        tone = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={sample_rate}"]
        target = f"icecast://source:tone-source@127.0.0.1:{self.port}{mount}"
        command = [str(FFMPEG), "-nostdin", "-loglevel", "error", "-re", *tone, *codec, target]
        return Kept(command, self.server.log, shown=lambda: f'{mount}"'.encode() in self.status_text())

    def wait_until(self, ready: Callable[[bytes], bool], sources: list[Kept], *, what: str) -> None:
        """Until `ready` is true of the status page, keeping Icecast and the sources going."""
        wait_until(
            lambda: ready(self.status_text()),
            [self.server, *sources],
            log_path=self.log_path,
            what=what,
            noise="GET /status-json.xsl",  # the wait's own requests, one every 50 ms
        )


@contextmanager
def icecast(tmp_path: Path) -> Iterator[Icecast]:
    port = free_port()
    config = tmp_path / "icecast.xml"
    config.write_text(icecast_config(port))
    log_path = tmp_path / "icecast.log"
    with log_path.open("w") as log:
        server = Kept([str(ICECAST), "-c", str(config)], log, shown=lambda: served.status_text() is not None)
        served = Icecast(port, log_path, server)
        try:
            served.wait_until(lambda status: True, [], what="icecast")  # answering
            yield served
        finally:
            server.stop()


MP3 = ["-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3"]


@dataclass
class Tone:
    """A real Icecast fed by a real ffmpeg source on /tone.mp3, which the test may stop and restart."""

    icecast: Icecast
    source: Kept

    @property
    def status(self) -> str:
        return self.icecast.status

    @staticmethod
    def listed_in(status: bytes) -> bool:
        return b"/tone.mp3" in status

    def start_source(self) -> None:
        self.icecast.wait_until(self.listed_in, [self.source], what="the tone's mount")

    def stop_source(self) -> None:
        self.source.stop()
        wait_for(lambda: not self.listed_in(self.icecast.status_text()), timeout=10, what="Icecast to drop the mount")


@pytest.fixture
def tone(tmp_path: Path) -> Iterator[Tone]:
    """Icecast with one mount, /tone.mp3, fed by ffmpeg."""
    with icecast(tmp_path) as served:
        fed = Tone(icecast=served, source=served.feed("/tone.mp3", MP3, sample_rate=44100))
        try:
            fed.start_source()
            yield fed
        finally:
            fed.source.stop()


def listen(url: str, stop_listening: threading.Event) -> None:
    """One real listener: reads the stream until told to stop."""
    with urllib.request.urlopen(url, timeout=5) as response:
        while not stop_listening.is_set() and response.read(4096):
            pass


def test_real_icecast_listener_count_reaches_the_tracker(tone: Tone, real_tracker: RealTracker):
    stream_url = tone.status.replace("/status-json.xsl", "/tone.mp3")
    stop_listening = threading.Event()
    listener = threading.Thread(target=listen, args=(stream_url, stop_listening), daemon=True)
    listener.start()
    agent = Agent(
        room="example",
        encoder="icecast-1",
        interval=5,
        sources=build_sources([{"type": "icecast", "url": tone.status}], timeout=2),
        transport=build_transport("auto", real_tracker.url, real_tracker.token_for("example", "icecast-1"), timeout=5),
    )
    try:
        streams: list = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # bounded: the listener shows up in Icecast's stats within a second
            agent.beat()
            with urllib.request.urlopen(f"{real_tracker.url}/tracker/api/rooms/example", timeout=5) as response:
                endpoints = json.load(response)["endpoints"]
            streams = [s for e in endpoints if e["encoder"] == "icecast-1" for s in e["streams"]]
            if streams and streams[0]["clients"] == 1:
                break
            time.sleep(0.2)
    finally:
        agent.close()
        stop_listening.set()

    assert agent.ok, agent.state
    # ffmpeg announces no bitrate, and without Icecast's admin password the agent cannot measure
    # it: unknown (null), and so is what goes out to the listener; never 0.
    assert streams == [
        {"format": "audio", "quality": "tone", "url": stream_url, "clients": 1, "bitrate": None, "mime": "audio/mpeg"}
    ]


def test_real_icecast_source_stopped_degrades_the_encoder_naming_the_mount_until_it_returns(
    tone: Tone, real_tracker: RealTracker, redis_client
):
    agent = Agent(
        room="example",
        encoder="icecast-1",
        interval=5,
        sources=build_sources([{"type": "icecast", "url": tone.status, "expect": ["/tone.mp3"]}], timeout=2),
        transport=build_transport("http", real_tracker.url, real_tracker.token_for("example", "icecast-1"), timeout=5),
    )

    def state() -> tuple[str, str, int]:
        record = json.loads(redis_client.hget("streaming:records", "example/icecast-1"))
        return record["state"], record["reason"], len(record["streams"])

    try:
        agent.beat()
        playing = state()
        tone.stop_source()
        agent.beat()  # the next heartbeat after the source stopped
        stopped = state()
        tone.start_source()
        agent.beat()
        back = state()
    finally:
        agent.close()

    assert playing == ("up", "", 1)
    assert stopped == ("degraded", "icecast: expected mount /tone.mp3 has no source", 0)
    assert back == ("up", "", 1)


@dataclass
class TwoMounts:
    """A real Icecast with /live.opus (Ogg/Opus 48 kbit/s) and /live.mp3 (MP3 64 kbit/s), each fed by ffmpeg."""

    status: str
    admin_password_file: Path


@pytest.fixture
def two_mounts(tmp_path: Path) -> Iterator[TwoMounts]:
    password = tmp_path / "icecast-admin"
    password.write_text("tone-admin\n")
    opus = ["-c:a", "libopus", "-b:a", "48k", "-content_type", "audio/ogg", "-f", "ogg"]
    with icecast(tmp_path) as served:
        feeds = [served.feed("/live.opus", opus, sample_rate=48000), served.feed("/live.mp3", MP3, sample_rate=48000)]
        try:
            # Both mounts listed, and the Ogg one with its codec: Icecast names it once it has read the
            # stream's first pages, a moment after the mount appears (the agent's first look must see it).
            served.wait_until(
                lambda status: status.count(b"/live.") == 2 and b'"subtype":"Opus"' in status, feeds, what="both mounts"
            )
            yield TwoMounts(status=served.status, admin_password_file=password)
        finally:
            for one in feeds:
                one.stop()


def test_real_icecast_two_mounts_of_one_encoder_each_their_codec_quality_and_measured_bitrate(
    two_mounts: TwoMounts, real_tracker: RealTracker
):
    source = {"type": "icecast", "url": two_mounts.status, "admin_password_file": str(two_mounts.admin_password_file)}
    agent = Agent(
        room="example",
        encoder="icecast-1",
        interval=5,
        sources=build_sources([source], timeout=2),
        transport=build_transport("http", real_tracker.url, real_tracker.token_for("example", "icecast-1"), timeout=5),
    )

    def endpoint_streams() -> dict[str, dict]:
        with urllib.request.urlopen(f"{real_tracker.url}/tracker/api/rooms/example", timeout=5) as response:
            endpoints = json.load(response)["endpoints"]
        return {s["quality"]: s for e in endpoints if e["encoder"] == "icecast-1" for s in e["streams"]}

    try:
        agent.beat()
        first = endpoint_streams()
        # Icecast adds up its byte counters every 5 s or so: two of them make a rate.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(1)
            agent.beat()
            measured = endpoint_streams()
            if all(s["bitrate"] for s in measured.values()):
                break
        chosen = set()
        for _ in range(6):  # the stream API once alternated between the two mounts
            with urllib.request.urlopen(
                f"{real_tracker.url}/tracker/api/rooms/example/stream?format=audio&quality=live-opus", timeout=5
            ) as response:
                chosen.add(json.load(response)["url"])
    finally:
        agent.close()

    base = two_mounts.status.removesuffix("/status-json.xsl")
    assert agent.ok, agent.state
    assert sorted(first) == ["live-mp3", "live-opus"]
    assert first["live-opus"]["mime"] == "audio/ogg; codecs=opus"
    assert first["live-mp3"]["mime"] == "audio/mpeg"
    # ffmpeg announces no bitrate: unknown at first, never 0...
    assert first["live-opus"]["bitrate"] is None and first["live-mp3"]["bitrate"] is None
    # ...then measured from the bytes its source sent (generous bounds: Icecast counts in steps).
    print(f"\nmeasured: opus {measured['live-opus']['bitrate']} bit/s, mp3 {measured['live-mp3']['bitrate']} bit/s")
    assert 16_000 < measured["live-opus"]["bitrate"] < 200_000
    assert 24_000 < measured["live-mp3"]["bitrate"] < 250_000
    assert chosen == {f"{base}/live.opus"}
