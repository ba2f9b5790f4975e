"""The control room as a crew uses it: real Chromium, daphne, worker, webhook receiver."""

import contextlib
import json
import os
import re
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import connect

from testing.factories import post_heartbeat
from testing.processes import TEST_CONFIG_DIR, TEST_SECRET, Site, running, wait_for
from tracker.ops.tests.test_alerts import Receiver
from tracker.ops.tests.test_ops_controls import VIEWER_REPORT

PASSWORD = "operator-password-for-tests"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "schedules"
LAPTOP = {"width": 1366, "height": 768}


def write_config(directory: Path, **private) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "config.json").write_text((TEST_CONFIG_DIR / "config.json").read_text())
    private["config"] = {"secret": TEST_SECRET, **private.get("config", {})}
    (directory / "config.private.json").write_text(json.dumps(private))


@contextmanager
def site_with(site_env: dict, tmp_path: Path, **private) -> Iterator[Site]:
    """The whole site with rooms config of the test's own (the test rooms plus `private`)."""
    directory = tmp_path / "rooms"
    write_config(directory, **private)
    with running({**site_env, "ROOMS_CONFIG_DIR": str(directory)}, tmp_path) as site:
        yield site


def add_encoders(site: Site, *members: tuple[str, str]) -> dict[tuple[str, str], str]:
    """Tokens for (room, name) pairs, from one Django start instead of one per encoder."""
    code = (
        "import json; from tracker.encoders.identities import add_encoder; "
        f"print(json.dumps([add_encoder(room=r, name=n)[1] for r, n in {list(members)!r}]))"
    )
    output = site.manage("shell", "--no-imports", "-c", code)
    return dict(zip(members, json.loads(output), strict=True))


def log_in(site: Site, page: Page, user: str = "op", *, url: str | None = None) -> None:
    code = (
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({user!r}, password={PASSWORD!r}, is_staff=True)"
    )
    site.manage("shell", "-c", code)
    page.goto((url or site.url) + "/tracker/dashboard/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#summary")).not_to_have_text("Connecting…")


def beat(site: Site, token: str, room: str, name: str, *, interval: int = 30, streams: int = 1) -> None:
    body = {
        "room": room,
        "encoder": name,
        "interval": interval,
        "streams": [
            {
                "format": "hls",
                "quality": f"q{i}",
                "url": f"https://cdn.example/{room}/{name}/{i}.m3u8",
                "clients": 4,
                "bitrate": 2_500_000,
            }
            for i in range(streams)
        ],
        "metrics": {"cpu": 40.5, "uptime": 3600},
    }
    post_heartbeat(site.url, body, token=token)


def first_room(page: Page):
    return page.locator("#grid > tbody").first


def test_worst_room_moves_to_the_top_when_its_encoder_goes_down(site: Site, page: Page):
    tokens = add_encoders(site, ("example", "cam-a"), ("hall-2", "cam-b"))
    log_in(site, page)
    beat(site, tokens[("example", "cam-a")], "example", "cam-a")
    beat(site, tokens[("hall-2", "cam-b")], "hall-2", "cam-b", interval=1)  # and no more
    expect(page.locator('tr[data-encoder="cam-b"] .badge')).to_have_text("up")
    expect(first_room(page)).to_have_attribute("data-room", "example")  # config order while all is well
    page.evaluate("document.querySelector('tr[data-encoder=\"cam-b\"]').marked = true")

    expect(first_room(page)).to_have_attribute("data-room", "hall-2", timeout=6000)
    expect(page.locator('tr[data-encoder="cam-b"] .badge')).to_have_text("down", timeout=6000)

    expect(page).to_have_title("(1 down) Dashboard")
    expect(first_room(page).locator(".room-head .badge")).to_have_text("off air")  # nothing scheduled: quiet
    # The row was moved, not rebuilt: the same element, in its room's new place.
    assert page.evaluate("document.querySelector('tr[data-encoder=\"cam-b\"]').marked") is True


def test_compact_grid_fits_four_rooms_of_three_encoders_on_a_laptop(site_env, tmp_path, browser: Browser):
    rooms = {name: {"title": f"Room {name}"} for name in ("r1", "r2", "r3", "r4")}
    with site_with(site_env, tmp_path, **rooms) as site:
        members = [(room, f"{room}-{role}") for room in rooms for role in ("collector", "hd", "sd")]
        tokens = add_encoders(site, *members)
        page = browser.new_page(viewport=LAPTOP)
        log_in(site, page)
        for (room, name), token in tokens.items():
            beat(site, token, room, name, streams=3)
        expect(page.locator("tr.encoder")).to_have_count(12)
        page.check("#compact")
        page.wait_for_timeout(300)

        size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        page.uncheck("#compact")
        page.wait_for_timeout(300)
        full = page.evaluate("document.documentElement.scrollHeight")
        page.close()

    assert size[0] <= LAPTOP["width"] and size[1] <= LAPTOP["height"], size
    assert full > size[1]  # compact is what makes it fit


@pytest.mark.timed
def test_dashboard_greys_out_within_two_seconds_of_losing_its_socket_and_recovers(site: Site, page: Page, tmp_path):
    tokens = add_encoders(site, ("example", "cam"))
    token = tokens[("example", "cam")]
    beat(site, token, "example", "cam")
    with running(site.env, tmp_path, worker=False) as web:
        log_in(site, page, url=web.url)
        expect(page.locator('tr[data-encoder="cam"] .badge')).to_have_text("up")
        os.kill(web.pids[0], signal.SIGKILL)  # the server is gone: no goodbye on the socket
        cut = time.monotonic()
        expect(page.locator("#offline")).to_be_visible(timeout=2000)
        greyed = time.monotonic() - cut
        port = int(web.url.rsplit(":", 1)[1])

    expect(page.locator("#offline")).to_contain_text("Disconnected from the server since")
    expect(page.locator("body")).to_have_class(re.compile(r"\bstale\b"))
    expect(page).to_have_title("(disconnected) Dashboard")
    assert greyed <= 2
    with running(site.env, tmp_path, worker=False, port=port):
        beat(site, token, "example", "cam", streams=2)  # changed while the dashboard was away
        expect(page.locator("#offline")).to_be_hidden(timeout=20000)
        expect(page.locator("body")).not_to_have_class(re.compile(r"\bstale\b"))
        expect(page.locator('tr[data-encoder="cam"] .streams li')).to_have_count(2)  # from the fresh snapshot
        expect(page).to_have_title("(1 no encoders (setup)) Dashboard")  # hall-2 has none


def test_acknowledge_and_silence_reach_a_second_operator_and_no_alert_goes_out(site_env, tmp_path, browser: Browser):
    receiver = Receiver()
    try:
        with site_with(site_env, tmp_path, config={"webhooks": [receiver.url]}) as site:
            token = add_encoders(site, ("example", "cam"))[("example", "cam")]
            alice, bob = browser.new_context().new_page(), browser.new_context().new_page()
            log_in(site, alice, "alice")
            log_in(site, bob, "bob")
            beat(site, token, "example", "cam", interval=30)
            expect(bob.locator('tr[data-encoder="cam"] .badge')).to_have_text("up")

            alice.locator('tbody[data-room="example"] .room-head select').select_option("60")
            expect(bob.locator('tbody[data-room="example"] .room-head .silenced')).to_contain_text(
                "Alerts silenced until"
            )
            expect(bob.locator('tbody[data-room="example"] .room-head .silenced')).to_contain_text("by alice")
            beat(site, token, "example", "cam", interval=1)  # then silence: down in 2 s
            expect(bob.locator('tr[data-encoder="cam"] .badge')).to_have_text("down", timeout=6000)
            expect(bob.locator('tr[data-encoder="cam"] .silenced')).to_contain_text("silenced until")
            expect(bob).to_have_title("(1 no encoders (setup); 1 down) Dashboard")  # silenced is not hidden

            # Alice's page settled too: a row moving as the click lands gets nothing.
            expect(alice.locator('tr[data-encoder="cam"] .badge')).to_have_text("down")
            alice.locator('tr[data-encoder="cam"] .ack-button').click()
            expect(bob.locator('tr[data-encoder="cam"] .ack')).to_contain_text("alice is on it")
            expect(bob.locator('tr[data-encoder="cam"] .ack-button')).to_be_hidden()
            bob.locator('tbody[data-room="example"] .log-box summary').click()
            expect(bob.locator('tbody[data-room="example"] .log')).to_contain_text("alice acknowledged cam (down)")
            expect(bob.locator('tbody[data-room="example"] .log')).to_contain_text("alice silenced the room until")

            # Back up while still silenced (no recovery alert either), then the silence ends.
            beat(site, token, "example", "cam", interval=30)
            expect(bob.locator('tr[data-encoder="cam"] .badge')).to_have_text("up")
            expect(bob.locator('tr[data-encoder="cam"] .ack')).to_have_text("")  # it was for that problem
            bob.locator('tbody[data-room="example"] .room-head select').select_option("0")
            expect(alice.locator('tbody[data-room="example"] .room-head .silenced')).to_have_text("")
            beat(site, token, "example", "cam", interval=1)  # down again, now alerted

            deadline = time.monotonic() + 15
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.1)
            alice.context.close()
            bob.context.close()
    finally:
        receiver.server.shutdown()

    assert [(a["name"], a["new"]) for a in receiver.received] == [("cam", "down")]


def test_schedule_with_a_wrong_key_shows_the_rooms_the_source_has(site_env, tmp_path, page: Page):
    schedule = str(FIXTURES / "across-midnight-frab.json")
    with site_with(site_env, tmp_path, example={"schedule": schedule, "schedule-key": "Main Hall"}) as site:
        log_in(site, page)

        problems = page.locator('tbody[data-room="example"] .problems')
        expect(problems).to_contain_text("Schedule has 0 events for “Main Hall”", timeout=10000)
        expect(problems).to_contain_text("“Meitner”")


def test_sighup_adds_a_room_that_goes_live_from_a_heartbeat_without_a_restart(site_env, tmp_path, page: Page):
    with site_with(site_env, tmp_path) as site:
        log_in(site, page)
        expect(page.locator("#grid > tbody")).to_have_count(2)
        write_config(tmp_path / "rooms", annex={"title": "Annex"})

        for pid in site.pids:  # daphne and the worker
            os.kill(pid, signal.SIGHUP)
        expect(page.locator('tbody[data-room="annex"] .title')).to_have_text("Annex", timeout=5000)
        token = add_encoders(site, ("annex", "cam"))[("annex", "cam")]
        beat(site, token, "annex", "cam")

        expect(page.locator('tbody[data-room="annex"] tr[data-encoder="cam"] .badge')).to_have_text("up")
        with urllib.request.urlopen(site.url + "/tracker/api/rooms/annex", timeout=5) as response:
            room = json.load(response)
        # The pages' room list is fetched again at most once a second (frontend/tracker_api.py).
        wait_for(lambda: urllib.request.urlopen(site.url + "/annex", timeout=5).status == 200, timeout=3, what="/annex")

        for pid in site.pids:
            os.kill(pid, 0)  # still the same processes: raises if one had ended

    assert room["live"] is True


# Records which rows a mutation touched, leaving out the clocks ("for", "last seen") that tick in every row.
def test_filter_shows_the_rooms_asked_for_and_counts_the_problems_it_hides(site: Site, page: Page):
    tokens = add_encoders(site, ("example", "cam-a"), ("hall-2", "cam-b"))
    log_in(site, page)
    beat(site, tokens[("example", "cam-a")], "example", "cam-a", interval=1)  # and no more: down in 2 s
    beat(site, tokens[("hall-2", "cam-b")], "hall-2", "cam-b")

    page.fill("#filter", "hall")
    expect(page.locator('tbody[data-room="example"]')).to_be_hidden()
    expect(page.locator('tr[data-encoder="cam-b"]')).to_be_visible()
    expect(page.locator("#summary")).to_have_text(
        "Rooms: 1 on air, 1 off air · Encoders: 1 down, 1 up (1 problem outside the filter)", timeout=6000
    )
    expect(page).to_have_title("(1 down) Dashboard")  # the title and favicon ignore the filter

    page.reload()  # the filter is in the address: a bookmark per room
    expect(page.locator("#filter")).to_have_value("hall")
    expect(page.locator('tbody[data-room="example"]')).to_be_hidden()
    expect(page.locator('tbody[data-room="hall-2"]')).to_be_visible()


def test_a_viewer_report_arrives_in_its_rooms_feed_with_the_playback_details(site: Site, page: Page):
    log_in(site, page)
    with connect(site.url.replace("http", "ws") + "/ws/live/", origin=site.url, open_timeout=5) as viewer:
        viewer.recv()  # the snapshot
        viewer.send(json.dumps(VIEWER_REPORT))
        sent_at = time.time()
        box = page.locator('tbody[data-room="example"] .reports-box')
        expect(box.locator("summary")).to_have_text("Viewer reports (1)")

    box.locator("summary").click()
    report = box.locator("li.report")
    expect(report.locator(".text")).to_have_text("black picture since the break")
    assert report.locator(".detail:visible").all_inner_texts() == [
        "format hls",
        "error manifestLoadError",
        "stream https://cdn.example/example/hls_hd.m3u8",
        "browser Firefox 133",
    ]
    expect(report.locator("time")).to_have_text(re.compile(r"^\d{1,2}:\d{2}"))
    shown = report.locator("time").get_attribute("datetime").replace("Z", "+00:00")
    assert abs(datetime.fromisoformat(shown).timestamp() - sent_at) < 5
    expect(page.locator('tbody[data-room="hall-2"] .reports-box')).to_be_hidden()  # its own room's feed only


WATCH_ROWS = """() => {
  window.touched = new Set();
  new MutationObserver((records) => records.forEach((record) => {
    const node = record.target.nodeType === Node.ELEMENT_NODE ? record.target : record.target.parentElement;
    const cell = node.closest("td, th");
    if (cell && !cell.matches(".since, .seen")) window.touched.add(cell.closest("tr").dataset.encoder || "room head");
  })).observe(document.getElementById("grid"), { subtree: true, childList: true, characterData: true,
                                                  attributes: true });
}"""


def test_a_heartbeat_rewrites_only_its_own_row_among_a_hundred(site_env, tmp_path, browser: Browser):
    rooms = {f"r{i}": {} for i in range(10)}
    with site_with(site_env, tmp_path, **rooms) as site:
        members = [(room, f"{room}-e{j}") for room in rooms for j in range(10)]
        tokens = add_encoders(site, *members)
        page = browser.new_page(viewport=LAPTOP)
        log_in(site, page)
        for (room, name), token in tokens.items():
            beat(site, token, room, name, interval=60)
        expect(page.locator("tr.encoder")).to_have_count(100)
        page.wait_for_timeout(500)
        page.evaluate(WATCH_ROWS)

        room, name = members[57]
        beat(site, tokens[(room, name)], room, name, interval=60, streams=2)
        expect(page.locator(f'tr[data-encoder="{name}"] .streams li')).to_have_count(2)
        page.wait_for_timeout(1500)  # past a tick of the clocks too
        touched = page.evaluate("[...window.touched]")
        page.close()

    # Its row, and its room's head: the streaming servers' clients of the room changed.
    assert sorted(touched) == sorted([name, "room head"])


class FreezingProxy:
    """A TCP proxy to the site whose link can go dead without closing, like a laptop
    whose Wi-Fi lost its route: open connections carry nothing and never close, new
    ones fail; until the link is back. Its connections to the site come from
    `source`, so a browser behind it is a client of that loopback address."""

    def __init__(self, upstream_port: int, source: str = "127.0.0.1") -> None:
        self.upstream_port = upstream_port
        self.source = source
        self.dead = False
        self.frozen: set[socket.socket] = set()
        self.connections: set[socket.socket] = set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                if self.dead:
                    client.close()
                    continue
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), source_address=(self.source, 0))
                self.connections |= {client, upstream}
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if source not in self.frozen:
                    target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def lose_link(self) -> None:
        self.dead = True
        self.frozen |= self.connections

    def restore_link(self) -> None:
        self.dead = False  # the frozen connections stay dead, as after a real outage

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


@pytest.mark.timed  # a silent link is judged in seconds, and the reconnect backs off: alone on the machine
def test_dashboard_notices_a_connection_gone_silent_and_reconnects(site: Site, page: Page):
    token = add_encoders(site, ("example", "cam"))[("example", "cam")]
    beat(site, token, "example", "cam")
    proxy = FreezingProxy(int(site.url.rsplit(":", 1)[1]))
    try:
        log_in(site, page, url=proxy.url)
        expect(page.locator('tr[data-encoder="cam"] .badge')).to_have_text("up")

        proxy.lose_link()
        lost = time.monotonic()
        # An unanswered ping is noticed within 1 s (ping interval) + 1.5 s (silence allowed) + a check.
        expect(page.locator("#offline")).to_be_visible(timeout=3500)
        assert time.monotonic() - lost <= 3.5
        # Since when: the last word from the server, so the count is already running, never "(0 s)".
        page.wait_for_timeout(1200)
        elapsed = int(re.search(r"\((\d+) s\)", page.locator("#offline").inner_text()).group(1))
        assert 2 <= elapsed <= 6
        expect(page).to_have_title("(disconnected) Dashboard")
        beat(site, token, "example", "cam", streams=2)
        proxy.restore_link()

        expect(page.locator("#offline")).to_be_hidden(timeout=20000)
        expect(page.locator('tr[data-encoder="cam"] .streams li')).to_have_count(2)
    finally:
        proxy.close()
