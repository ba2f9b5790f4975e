"""A hostile crowd never blinds the crew: real daphne, worker, Redis and Chromium.

Each test fills stores to their caps or floods one channel, from one client
address and from many (behind a trusted proxy, X-Forwarded-For says who),
then checks what the crew needs: an operator's snapshot within 1 s and a
dashboard that loads in Chromium, a real viewer's report reaching it, the
owner able to log in, no 5xx, no traceback in any log, memory bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis as redis_sync
from playwright.sync_api import Browser, expect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

from testing.factories import stream
from testing.processes import Site, running, site_environment
from tracker.encoders import store
from tracker.live import viewer_reports
from tracker.ops import actions
from tracker.ops.snapshot import MAX_SNAPSHOT_BYTES

DAPHNE_LIMIT = 1024 * 1024  # daphne closes (1011) rather than send a bigger message
OWNER, PASSWORD = "owner", "owner-password-for-tests"
OWNER_ADDRESS = "198.51.100.200"
ASTRAL = "\U0001f4a9"  # 4 bytes in a frame, 12 escaped as JSON
ROOMS = ("example", "hall-2")
ENCODERS = [(room, f"{room}-cam-{n}") for room in ROOMS for n in range(3)]


def worst(limit: int) -> str:
    """The most a field capped at `limit` escaped bytes can hold, in the costliest characters."""
    return ASTRAL * (limit // 12)


@dataclass
class Crew:
    site: Site
    logs: Path
    redis_url: str
    tokens: dict[tuple[str, str], str]
    cookie: str = ""
    statuses: list[int] = field(default_factory=list)
    largest: dict[str, int] = field(default_factory=dict)

    def measure(self, what: str, text: str | bytes) -> None:
        size = len(text.encode() if isinstance(text, str) else text)
        self.largest[what] = max(self.largest.get(what, 0), size)

    def request(self, path: str, *, data: bytes | None = None, headers: dict | None = None) -> int:
        """One HTTP request; its status (any, even an error) is kept for the no-5xx check."""
        request = urllib.request.Request(self.site.url + path, data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.statuses.append(status)
        return status

    def ops_socket(self):
        return connect(
            self.site.url.replace("http", "ws") + "/ws/ops/",
            origin=self.site.url,
            additional_headers={"Cookie": self.cookie},
            open_timeout=5,
            max_size=None,
        )


def log_in(site: Site, username: str, password: str, address: str) -> tuple[bool, str]:
    """The login form as a browser at `address` posts it: (logged in, session cookie)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    forwarded = {"X-Forwarded-For": address}
    page = opener.open(urllib.request.Request(site.url + "/tracker/login/", headers=forwarded), timeout=10).read()
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1].decode()
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    headers = {**forwarded, "Referer": site.url + "/tracker/login/"}
    with opener.open(urllib.request.Request(site.url + "/tracker/login/", data.encode(), headers), timeout=10) as r:
        landed = r.url
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return landed.endswith("/tracker/dashboard/"), cookie


# A crowd's socket the site turns away (refused, closed for its budget, or its handshake dropped
# past daphne's 5 s while the flood holds the process: met once in CI) is no failure; what the
# tests check is what the crew still sees and what the stores kept.
TURNED_AWAY = (ConnectionClosed, InvalidHandshake, TimeoutError, OSError)


def viewer(crew: Crew, address: str):
    return connect(
        crew.site.url.replace("http", "ws") + "/ws/live/",
        origin=crew.site.url,
        additional_headers={"X-Forwarded-For": address},
        open_timeout=10,
        max_size=None,
    )


def send_report(crew: Crew, address: str, text: str) -> None:
    """One viewer at `address` opens the page, reports a problem, and leaves."""
    fields = {name: worst(limit) for name, limit in viewer_reports.REPORT_FIELDS.items()}
    report = {**fields, "type": "report", "room": "example", "tab": f"tab-{uuid.uuid4().hex}", "text": text}
    with contextlib.suppress(*TURNED_AWAY), viewer(crew, address) as socket:
        socket.recv(timeout=10)  # the snapshot
        socket.send(json.dumps(report))


def beat(crew: Crew, room: str, name: str, *, token: str | None = None) -> int:
    body = {
        "room": room,
        "encoder": name,
        "interval": 30,
        "streams": [
            stream(f"https://cdn.example/{room}/{name}/{i}.m3u8", quality=f"q{i}", clients=3, bitrate=2_000_000)
            for i in range(32)
        ],
    }
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token or crew.tokens[room, name]}"}
    return crew.request("/tracker/api/heartbeat", data=json.dumps(body).encode(), headers=headers)


def crowd(task, arguments, *, workers: int = 16) -> None:
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(task, arguments))


@pytest.fixture(scope="module")
def crew(redis_url: str, site_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crew]:
    """The site (trusting loopback as its proxy), its owner's account and six encoders with their tokens."""
    logs = tmp_path_factory.mktemp("hostile")
    with sqlite3.connect(site_database.removeprefix("sqlite:///")) as db:
        for table in ("tracker_encoder", "django_session", "auth_user"):
            db.execute(f"DELETE FROM {table}")  # as conftest's site_env: no encoders or users of other tests
    env = site_environment(redis_url, site_database, TRUSTED_PROXIES="127.0.0.1/32")
    with running(env, logs) as site:
        code = (
            "import json; from django.contrib.auth.models import User; "
            "from tracker.encoders.identities import add_encoder; "
            f"User.objects.create_user({OWNER!r}, password={PASSWORD!r}, is_staff=True); "
            f"print(json.dumps([add_encoder(room=r, name=n)[1] for r, n in {ENCODERS!r}]))"
        )
        tokens = dict(zip(ENCODERS, json.loads(site.manage("shell", "--no-imports", "-c", code)), strict=True))
        yield Crew(site=site, logs=logs, redis_url=redis_url, tokens=tokens)


@pytest.fixture
def ready(crew: Crew, redis) -> Crew:
    """The crew at the start of a test: Redis emptied, every encoder reporting, the owner logged in."""
    crew.statuses.clear()
    for room, name in ENCODERS:
        assert beat(crew, room, name) == 200
    logged_in, crew.cookie = log_in(crew.site, OWNER, PASSWORD, OWNER_ADDRESS)
    assert logged_in
    return crew


def crew_still_sees(crew: Crew, browser: Browser) -> None:
    """What must hold after any flood."""
    # An operator's snapshot within 1 s, under daphne's limit.
    started = time.monotonic()
    with crew.ops_socket() as operator:
        snapshot = operator.recv(timeout=5)
        took = time.monotonic() - started
        crew.measure("snapshot", snapshot)
        assert json.loads(snapshot)["type"] == "snapshot"
        assert took < 1, f"snapshot after {took:.2f} s"
        assert len(snapshot.encode()) <= MAX_SNAPSHOT_BYTES
        for room in ROOMS:
            operator.send(json.dumps({"type": "reports", "room": room}))
        # A real viewer's report reaches it (a fresh address: the crowd's budgets are not theirs).
        marker = f"real viewer {uuid.uuid4().hex[:8]}"
        time.sleep(1.1)  # the room's bucket refills a report a second once a flood stops
        send_report(crew, f"192.0.2.{int(time.time() * 1000) % 250 + 1}", marker)
        deadline = time.monotonic() + 5
        while True:
            message = json.loads(text := operator.recv(timeout=max(0.1, deadline - time.monotonic())))
            crew.measure(message["type"], text)
            if message["type"] == "report" and message["report"]["text"] == marker:
                break
    # The owner can log in from their own address.
    assert log_in(crew.site, OWNER, PASSWORD, OWNER_ADDRESS)[0]
    # A real dashboard in Chromium loads and shows every encoder.
    context = browser.new_context()
    try:
        host = urllib.parse.urlsplit(crew.site.url).hostname
        context.add_cookies(
            [
                {"name": name, "value": value, "domain": host, "path": "/"}
                for name, value in (pair.split("=", 1) for pair in crew.cookie.split("; "))
            ]
        )
        page = context.new_page()
        page.goto(crew.site.url + "/tracker/dashboard/")
        expect(page.locator("#summary")).to_contain_text("up", timeout=5000)
        expect(page.locator("tr.encoder")).to_have_count(len(ENCODERS))
    finally:
        context.close()
    # No 5xx, no traceback, memory bounded.
    assert not [status for status in crew.statuses if status >= 500]
    for log in crew.logs.glob("*.log"):
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text[text.find("Traceback") - 300 :][:3000]
    with redis_sync.Redis.from_url(crew.redis_url) as client:
        assert client.info("memory")["used_memory"] < 64 * 1024 * 1024
    for pid in crew.site.pids:
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())[1])
        assert rss_kb < 400 * 1024


def test_reports_flooded_from_one_address_and_from_many(ready: Crew, browser: Browser):
    one = ["203.0.113.7"] * 60  # reconnecting for each: the budget is the address's, not the socket's
    many = [f"10.{n // 250}.{n % 250}.1" for n in range(300)] + [f"2001:db8:66::{n:x}" for n in range(1, 60)]
    crowd(lambda address: send_report(ready, address, worst(1000)), one + many)

    with redis_sync.Redis.from_url(ready.redis_url, decode_responses=True) as client:
        [key] = client.scan_iter(match="*:reports:example:by")
        kept = client.hgetall(key)
    assert len(kept) <= viewer_reports.REPORTERS_KEPT
    counts = [json.loads(report)["count"] for report in kept.values()]
    assert max(counts) <= viewer_reports.CLIENT_REPORTS  # one address's reports merged, within its budget
    crew_still_sees(ready, browser)


def test_every_store_filled_to_its_caps_with_the_costliest_characters(ready: Crew, browser: Browser):
    log_entries = 50  # what the snapshot shows of each room's log (store.read_ops_snapshot)

    async def fill() -> None:
        """Written as the site writes them, without the waits between: reports, notes, room logs."""
        redis = store.connect()
        try:
            for room in ROOMS:
                fields = {name: worst(cap) for name, cap in viewer_reports.REPORT_FIELDS.items()}
                report = viewer_reports.parse_report({"room": room, "tab": "t" * 64, **fields})
                for n in range(viewer_reports.REPORTERS_KEPT):
                    await redis.delete(store.key("budget", "report-room", room))
                    await viewer_reports.add_report(redis, report, address=f"10.77.{n}.1", now=time.time())
            encoders = [name for name in ENCODERS for _ in range(log_entries // 3 + 1)]
            for n, (room, name) in enumerate(encoders):
                text = f"{n % 10}" + worst(actions.MAX_NOTE_BYTES - 12)
                await actions.note(redis, {"room": room, "name": name, "text": text}, by=OWNER, now=time.time())
        finally:
            await redis.aclose()

    with ThreadPoolExecutor(1) as thread:  # Playwright's loop runs in this one
        thread.submit(asyncio.run, fill()).result()
    crew_still_sees(ready, browser)
    print(f"largest messages sent, in bytes: {ready.largest}")  # pytest -s: docs/performance.md
    assert max(ready.largest.values()) < DAPHNE_LIMIT
    assert ready.largest["snapshot"] < MAX_SNAPSHOT_BYTES
    assert ready.largest["reports"] <= viewer_reports.PAGE_SIZE * viewer_reports.MAX_REPORT_BYTES + 200


def closed_with(socket) -> int:
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        while True:
            socket.recv(timeout=5)
    return socket.close_code


def test_operator_socket_flood_and_oversized_names(ready: Crew, browser: Browser):
    with ready.ops_socket() as socket:
        socket.recv(timeout=5)
        socket.send(json.dumps({"type": "note", "room": "example", "name": "x" * 900_000, "text": ""}))
        assert closed_with(socket) == 4413
    with ready.ops_socket() as socket:
        socket.recv(timeout=5)
        with contextlib.suppress(ConnectionClosed):
            for _ in range(200):
                socket.send(json.dumps({"type": "ping"}))
        assert closed_with(socket) == 4429
    crew_still_sees(ready, browser)


def test_viewer_channels_flooded_watch_health_and_frames(ready: Crew, browser: Browser):
    def flood(address: str) -> None:
        with contextlib.suppress(*TURNED_AWAY), viewer(ready, address) as s:
            s.recv(timeout=10)
            for n in range(40):
                s.send(json.dumps({"type": "watch", "room": "example", "tab": f"tab-{address}-{n}"[:64]}))
                s.send(json.dumps({"type": "health", "state": "error"}))
            s.send("x" * 100_000)

    crowd(flood, ["203.0.113.9"] * 30 + [f"10.20.{n}.1" for n in range(60)])
    crew_still_sees(ready, browser)


def test_logins_heartbeats_and_legacy_posts_flooded(ready: Crew, browser: Browser):
    def wrong_login(address: str) -> None:
        log_in(ready.site, OWNER, "wrong", address)

    # Many tries from one address (throttled after a few, cheaply), and a few from each of many.
    crowd(wrong_login, ["203.0.113.66"] * 30 + [f"10.30.{n}.1" for n in range(8)], workers=8)
    crowd(lambda _: beat(ready, *ENCODERS[0]), range(100))
    crowd(lambda _: beat(ready, "example", "cam-9", token="not-a-token"), range(100))
    legacy = urllib.parse.urlencode({"secret": "wrong", "room": "example", "name": "x" * 5000}).encode()
    crowd(lambda _: ready.request("/tracker/endpoint/register", data=legacy), range(100))

    assert 429 in ready.statuses  # the token's heartbeat budget
    crew_still_sees(ready, browser)
