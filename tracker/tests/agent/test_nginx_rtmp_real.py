"""A real nginx with the RTMP module, a real publisher (ffmpeg), and the agent reporting to the real tracker:
a publisher stopped makes the encoder degraded; back, it is `up` at the first heartbeat after its return,
not 10 s later when nginx-rtmp works out its bw_in again.

Needs Debian's `nginx` with `libnginx-mod-rtmp`, and `ffmpeg`; skipped with the reason when missing.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from testing.processes import free_port, wait_for
from tracker.agent.loop import Agent
from tracker.agent.sources import build_sources
from tracker.agent.transports import build_transport

from .media import Kept, wait_until
from .servers import RealTracker

NGINX, FFMPEG = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("ffmpeg")
MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
pytestmark = pytest.mark.skipif(
    not (Path(NGINX).exists() and MODULE.exists() and FFMPEG),
    reason="needs Debian's nginx, libnginx-mod-rtmp and ffmpeg (apt-get install nginx-light libnginx-mod-rtmp ffmpeg)",
)
INTERVAL = 5


@dataclass
class Rtmp:
    """nginx-rtmp with application `live`, its /stat page, and a publisher of live/main the test may stop."""

    stat: str
    nginx: Kept
    publisher: Kept
    log_path: Path

    def publishing(self) -> bool:
        return publishing(self.stat)

    def publish(self) -> None:
        wait_until(self.publishing, [self.nginx, self.publisher], log_path=self.log_path, what="the publisher")

    def stop_publishing(self) -> None:
        self.publisher.stop()
        wait_for(lambda: not self.publishing(), timeout=10, what="nginx-rtmp to drop the publisher")


def publishing(stat: str) -> bool:
    return b"<publishing/>" in urllib.request.urlopen(stat, timeout=1).read()


def answering(stat: str) -> bool:
    return urllib.request.urlopen(stat, timeout=1).status == 200


def publisher(rtmp_port: int, stat: str, log: IO[str]) -> Kept:
    source = ["-f", "lavfi", "-i", "testsrc=size=320x180:rate=25", "-f", "lavfi", "-i", "sine=frequency=440"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-b:v", "300k", "-g", "50"]
    codecs += ["-c:a", "aac", "-b:a", "64k", "-f", "flv"]
    target = f"rtmp://127.0.0.1:{rtmp_port}/live/main"
    command = [str(FFMPEG), "-nostdin", "-loglevel", "error", "-re", *source, *codecs, target]
    return Kept(command, log, shown=lambda: publishing(stat))


@pytest.fixture
def rtmp(tmp_path: Path) -> Iterator[Rtmp]:
    rtmp_port, http_port = free_port(), free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"load_module {MODULE};\n"
        f"daemon off;\nmaster_process off;\npid {tmp_path}/nginx.pid;\nerror_log stderr;\n"
        "events {}\n"
        f"rtmp {{ server {{ listen 127.0.0.1:{rtmp_port}; application live {{ live on; }} }} }}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"  fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;\n"
        f"  server {{ listen 127.0.0.1:{http_port}; location /stat {{ rtmp_stat all; }} }} }}\n"
    )
    log_path = tmp_path / "rtmp.log"
    stat = f"http://127.0.0.1:{http_port}/stat"
    with log_path.open("w") as log:
        nginx = Kept([NGINX, "-p", str(tmp_path), "-c", str(conf)], log, shown=lambda: answering(stat))
        fed = Rtmp(stat=stat, nginx=nginx, publisher=publisher(rtmp_port, stat, log), log_path=log_path)
        try:
            wait_until(lambda: answering(stat), [nginx], log_path=log_path, what="nginx-rtmp")
            fed.publish()
            yield fed
        finally:
            fed.publisher.stop()
            nginx.stop()


def test_real_nginx_rtmp_publisher_back_is_up_within_one_interval_of_its_return(
    rtmp: Rtmp, real_tracker: RealTracker, redis_client
):
    source = {"type": "nginx_rtmp", "url": rtmp.stat, "expect": ["live/main"]}
    agent = Agent(
        room="example",
        encoder="rtmp-1",
        interval=INTERVAL,
        sources=build_sources([source], timeout=2),
        transport=build_transport("http", real_tracker.url, real_tracker.token_for("example", "rtmp-1"), timeout=5),
    )

    def state() -> tuple[str, str]:
        record = json.loads(redis_client.hget("streaming:records", "example/rtmp-1"))
        return record["state"], record["reason"]

    try:
        agent.beat()
        playing = state()
        rtmp.stop_publishing()
        agent.beat()
        stopped = state()
        rtmp.publish()
        returned_at = time.monotonic()
        agent.beat()  # the first heartbeat after its return: nginx-rtmp still says bw_in 0 here
        back, back_after = state(), time.monotonic() - returned_at
    finally:
        agent.close()

    assert playing == ("up", "")
    assert stopped == ("degraded", "nginx_rtmp: expected stream live/main is absent")
    assert back == ("up", "")
    assert back_after < INTERVAL
