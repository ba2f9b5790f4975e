"""Web processes stopping under live viewers: politely (SIGTERM) and not (kill -9)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from testing.processes import ROOT, free_port, running, wait_for

from .clients import Encoder, transitions


def test_sigterm_tells_viewers_to_reconnect_elsewhere_then_stops(site_env, tmp_path):
    with running(site_env, tmp_path, worker=False) as site, contextlib.ExitStack() as stack:
        daphne = site.processes[0]
        url = site.url.replace("http", "ws") + "/ws/live/"
        viewers = [stack.enter_context(connect(url, origin=site.url, open_timeout=5)) for _ in range(20)]
        for viewer in viewers:
            viewer.recv(timeout=5)  # the snapshot
        daphne.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        codes = []
        for viewer in viewers:
            try:
                viewer.recv(timeout=5)
            except ConnectionClosed as closed:
                codes.append(closed.rcvd.code if closed.rcvd else None)
        told_in = time.monotonic() - asked
        exit_code = daphne.wait(timeout=10)
        stopped_in = time.monotonic() - asked
    log = next(tmp_path.glob("*-0.log")).read_text()
    print(f"\ndaphne SIGTERM: 20 viewers told in {told_in:.2f} s, process gone after {stopped_in:.2f} s")

    assert codes == [4503] * 20  # feed.js: reconnect at once, spread over a few seconds
    assert told_in < 1 and stopped_in < 5
    assert exit_code == 0
    assert "told 20 sockets to reconnect elsewhere" in log
    assert "open-file limit" in log


TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def balancer_conf(tmp_path: Path, port: int, primary: str, backup: str) -> Path:
    """nginx in front of two daphnes, websockets upgraded; the second takes over when the first is gone."""
    for name in TEMP_PATHS:
        (tmp_path / name).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "  access_log off;\n"
        + "".join(f"  {name}_temp_path {tmp_path}/{name};\n" for name in TEMP_PATHS)
        + f"  upstream site {{ server {primary} max_fails=1 fail_timeout=30s; server {backup} backup; }}\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n"
        "    location / { proxy_pass http://site; proxy_set_header Host $http_host; }\n"
        "    location /ws/ { proxy_pass http://site; proxy_http_version 1.1; proxy_set_header Host $http_host;\n"
        "      proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection upgrade; }\n"
        "  }\n}\n"
    )
    return conf


@contextlib.contextmanager
def balancer(tmp_path: Path, primary: str, backup: str) -> Iterator[str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light)")
    port = free_port()
    conf = balancer_conf(tmp_path, port, primary, backup)
    process = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log"), "-g", "daemon off;"]
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: urllib.request.urlopen(url + "/readyz", timeout=1).status == 200, timeout=10, what="nginx")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_daphne_killed_under_live_viewers_they_resync_on_the_other_within_5_s(site_env, tmp_path, browser):
    with (
        running(site_env, tmp_path) as first,
        running(site_env, tmp_path, worker=False) as second,
        balancer(tmp_path, first.url.removeprefix("http://"), second.url.removeprefix("http://")) as url,
    ):
        token = first.add_encoder("example", "cam-1")
        snapshots: dict[int, list[tuple[float, dict]]] = {}
        pages = []
        with Encoder(url, token, name="cam-1", interval=5, every=1):
            for number in range(4):
                page = browser.new_context().new_page()
                snapshots[number] = []
                page.on(
                    "websocket",
                    lambda socket, number=number: socket.on(
                        "framereceived", lambda frame, number=number: record_snapshot(snapshots[number], frame)
                    ),
                )
                page.goto(url + "/example")
                pages.append(page)
            in_browser(pages[0], lambda: all(live_in(s) for s in snapshots.values()), timeout=10)

            first.processes[0].kill()  # the daphne every viewer is on, without a word
            killed = time.monotonic()
            in_browser(pages[0], lambda: all(resynced(s, killed) for s in snapshots.values()), timeout=10)
            times = [resynced(s, killed) for s in snapshots.values()]
            states = [s[-1][1] for s in snapshots.values()]
        for page in pages:
            page.context.close()
    slowest = max(t - killed for t in times if t)
    print(f"\ndaphne killed -9 under 4 viewers: all resynced on the other within {slowest:.2f} s")

    assert all(times) and slowest < 5
    assert all(live_in([(0, state)]) for state in states)  # the fresh snapshot still shows the room live


def in_browser(page, check, *, timeout: float) -> None:
    """Wait for `check` while Playwright delivers the pages' events (it does only inside its own calls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        page.wait_for_timeout(50)


def record_snapshot(into: list[tuple[float, dict]], frame: str | bytes) -> None:
    message = json.loads(frame)
    if message["type"] == "snapshot":
        into.append((time.monotonic(), message))


def live_in(snapshots: list[tuple[float, dict]]) -> bool:
    return bool(snapshots) and any(r["name"] == "example" and r["live"] for r in snapshots[-1][1]["rooms"])


def resynced(snapshots: list[tuple[float, dict]], since: float) -> float | None:
    return next((at for at, _ in snapshots if at > since), None)


def test_frontend_alone_keeps_its_rooms_while_its_tracker_is_gone(fault_env, own_redis, receiver, tmp_path):
    tracker_port = free_port()
    with running(fault_env, tmp_path, port=tracker_port) as tracker:
        token = tracker.add_encoder("example", "cam-1")
        frontend_env = {
            **fault_env,
            "SITE_PARTS": "frontend",
            "TRACKER_URL": tracker.url,
            "TRACKER_PUBLIC_URL": tracker.url,
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # the frontend has none
        }
        with (
            Encoder(tracker.url, token, name="cam-1", interval=5, every=1),
            running(frontend_env, tmp_path, worker=False) as frontend,
        ):
            wait_for(lambda: 'data-room="example"' in page_of(frontend.url), timeout=10, what="the room live")
            tracker.processes[0].kill()  # systemd starts it again two seconds later
            gone = time.monotonic()
            during, room_pages = [], []
            while time.monotonic() - gone < 3:
                started = time.monotonic()
                during.append((page_of(frontend.url), time.monotonic() - started, readiness(frontend.url)))
                room_pages.append(page_of(frontend.url, "/example"))  # a 503 raises here
                time.sleep(0.5)
            again = restart_daphne(tracker, tracker_port, tmp_path)
            # Freshness counts from the tracker's first answer: how long a new
            # Python takes to start (1-3 s on a loaded machine) is not the frontend's.
            wait_for(lambda: page_of(tracker.url, "/tracker/api/rooms"), timeout=20, what="the tracker again")
            back = time.monotonic()
            wait_for(lambda: "warnings" not in readiness(frontend.url)[1], timeout=10, what="fresh rooms")
            fresh_in = time.monotonic() - back
            time.sleep(3)  # room for a wrong alert
            again.terminate()
    slowest = max(answered for _, answered, _ in during)
    print(f"\ntracker gone 3 s: frontend answered in at most {slowest:.2f} s; fresh {fresh_in:.2f} s after it answered")

    assert all('data-room="example"' in html for html, _, _ in during)  # the room stayed on the pages
    assert all('id="video"' in html for html in room_pages)  # and its player, schedule or not
    assert all(status == 200 for _, _, (status, _) in during)
    assert any("tracker" in body.get("warnings", {}) for _, _, (_, body) in during)
    assert slowest < 1
    assert fresh_in < 2  # the room list is asked for again once a second
    assert receiver.received == []
    assert [t for t in transitions(own_redis.url)] == [("cam-1", None, "up")]


def page_of(url: str, path: str = "/") -> str:
    with urllib.request.urlopen(url + path, timeout=5) as response:
        return response.read().decode()


def readiness(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def restart_daphne(site, port: int, logs: Path) -> subprocess.Popen:
    log = (logs / "daphne-again.log").open("w")
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "project.asgi:application"]
    process = subprocess.Popen(command, cwd=ROOT, env=site.env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process


def test_every_web_process_gone_8_s_is_no_encoder_outage(fault_env, own_redis, receiver, tmp_path):
    port = free_port()
    with running(fault_env, tmp_path, port=port) as site:
        token = site.add_encoder("example", "cam-1")
        with Encoder(site.url, token, name="cam-1", interval=5, every=1) as encoder:
            wait_for(lambda: transitions(own_redis.url) == [("cam-1", None, "up")], timeout=10, what="cam-1 up")
            site.processes[0].kill()  # the only web process: nobody can take a heartbeat
            time.sleep(8)  # past cam-1's interval plus grace: late, then down, were it judged
            again = restart_daphne(site, port, tmp_path)
            back = time.monotonic()
            try:
                wait_for(lambda: encoder.first_accepted_after(back), timeout=20, what="heartbeats taken again")
                accepted_in = encoder.first_accepted_after(back) - back
                time.sleep(3)  # room for a wrong alert
            finally:
                again.terminate()
                again.wait(timeout=10)
    log = next(tmp_path.glob(f"{port}-1.log")).read_text()
    print(f"\nevery web process gone 8 s: heartbeats taken {accepted_in:.1f} s after the restart, no encoder judged")

    assert transitions(own_redis.url) == [("cam-1", None, "up")]
    assert receiver.received == []
    assert "no web process is taking heartbeats" in log and "encoders get an interval plus grace" in log
