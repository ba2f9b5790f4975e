"""The operators' dashboard in a real Chromium against real daphne and worker."""

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from testing import factories
from testing.factories import post_heartbeat
from testing.processes import Site, running

PASSWORD = "operator-password-for-tests"


def log_in(site: Site, page: Page) -> None:
    site.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user('op', password='{PASSWORD}', is_staff=True)",
    )
    page.goto(site.url + "/tracker/dashboard/")
    page.fill("input[name=username]", "op")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(site.url + "/tracker/dashboard/")


def heartbeat(name: str, interval: int = 1) -> dict:
    return factories.heartbeat(factories.stream(f"https://cdn.example/{name}.m3u8"), encoder=name, interval=interval)


@pytest.mark.timed
def test_dashboard_shows_an_encoder_going_down_in_row_and_title(site: Site, page: Page):
    token = site.add_encoder("example", "cam-1")
    log_in(site, page)
    post_heartbeat(site.url, heartbeat("cam-1"), token=token)
    row = page.locator('tbody[data-room=example] tr[data-encoder="cam-1"]')
    expect(row.locator(".badge")).to_have_text("up", timeout=5000)
    room = page.locator("tbody[data-room=example] .room-head .badge")
    expect(room).to_have_text("on air", timeout=5000)
    # hall-2 has no encoder: a setup problem, counted.
    expect(page).to_have_title("(1 no encoders (setup)) Dashboard")

    stopped = time.monotonic()
    # interval 1 s + grace 1 s (test config) + 1 s for the sweeper
    expect(row.locator(".badge")).to_have_text("down", timeout=6000)
    elapsed = time.monotonic() - stopped

    assert elapsed <= 1 + 1 + 1 + 1.5  # plus the browser's polling slack
    expect(page).to_have_title("(1 no encoders (setup); 1 down) Dashboard")
    expect(room).to_have_text("off air", timeout=3000)  # nothing is scheduled: quiet
    expect(page.locator("#summary")).to_have_text("Rooms: 1 no encoders (setup), 1 off air · Encoders: 1 down")
    expect(page.locator("#site-warnings")).to_be_hidden()  # a worker runs, Redis persists


@pytest.mark.timed
def test_dashboard_shows_websocket_encoder_disconnected_within_a_second(site: Site, page: Page):
    token = site.add_encoder("example", "cam-ws")
    log_in(site, page)
    socket_url = site.url.replace("http", "ws") + "/tracker/ws/encoder/"
    row = page.locator('tr[data-encoder="cam-ws"]')

    with connect(socket_url, additional_headers={"Authorization": f"Bearer {token}"}) as socket:
        socket.send(json.dumps(heartbeat("cam-ws", interval=30)))
        assert json.loads(socket.recv(timeout=5)) == {"ok": True, "next": 30}
        expect(row.locator(".badge")).to_have_text("up", timeout=5000)
    closed = time.monotonic()
    expect(row.locator(".badge")).to_have_text("disconnected", timeout=3000)

    assert time.monotonic() - closed <= 1.5


def test_dashboard_asks_anonymous_visitors_to_log_in(site: Site, page: Page):
    page.goto(site.url + "/tracker/dashboard/")

    expect(page.locator("h1")).to_have_text("Operator login")


def test_dashboard_shows_what_is_on_stage(site: Site, page: Page):
    import asyncio
    import threading

    from tracker.encoders import store

    talk = {"title": "Keynote", "start": "2026-12-27T09:00:00+00:00", "end": "2026-12-27T10:00:00+00:00"}

    async def put_on_stage() -> None:
        redis = store.connect()
        await store.set_room_attr(redis, "example", "nownext", {"now": talk, "next": None})
        await redis.aclose()

    log_in(site, page)
    expect(page.locator('tbody[data-room="example"]')).to_be_visible()
    # In a thread: Playwright owns this thread's event loop.
    thread = threading.Thread(target=asyncio.run, args=(put_on_stage(),))
    thread.start()
    thread.join()

    expect(page.locator('tbody[data-room="example"] .nownext')).to_contain_text("Now: Keynote", timeout=5000)


def test_dashboard_log_stays_open_while_updates_arrive(site: Site, page: Page):
    token = site.add_encoder("example", "cam-1")
    log_in(site, page)
    post_heartbeat(site.url, heartbeat("cam-1", interval=30), token=token)
    details = page.locator('tbody[data-room="example"] details.log-box')
    # The page settled first, as a person clicks: the encoder's and the room's first entries move the
    # room among the others, and a click landing as the room moves opens nothing (met once in CI).
    expect(page.locator('tr[data-encoder="cam-1"] .badge')).to_have_text("up")
    expect(details.locator("summary")).to_have_text("Log (2)")
    details.locator("summary").click()
    expect(details).to_have_attribute("open", "")

    post_heartbeat(site.url, heartbeat("cam-1", interval=30), token=token)  # redraws the grid
    expect(page.locator('tr[data-encoder="cam-1"] .badge')).to_have_text("up")
    page.wait_for_timeout(500)

    expect(page.locator('tbody[data-room="example"] details.log-box')).to_have_attribute("open", "")


def test_dashboard_banner_says_when_no_worker_runs(site_env, tmp_path, page: Page):
    with running(site_env, tmp_path, worker=False) as site:
        log_in(site, page)
        banner = page.locator("#site-warnings")
        expect(banner).to_be_visible(timeout=5000)
        expect(banner).to_contain_text("no worker")


def test_dashboard_shows_the_audience_as_it_changes(site: Site, page: Page):
    log_in(site, page)
    audience = page.locator("tbody[data-room=example] .audience")
    expect(audience).to_have_text("no tabs on this site", timeout=5000)
    viewer_url = site.url.replace("http", "ws") + "/ws/live/"

    with connect(viewer_url, origin=site.url) as viewer:
        viewer.recv(timeout=5)  # the snapshot
        viewer.send(json.dumps({"type": "watch", "room": "example", "tab": "tab-aaaaaaaa"}))
        viewer.send(json.dumps({"type": "health", "state": "playing"}))
        # Unversioned audience figures (tracker.live.audience): the page takes each as it comes.
        expect(audience).to_have_text("1 tab on this site · 1 reporting: 1 playing", timeout=8000)
    expect(audience).to_have_text("no tabs on this site", timeout=8000)


def test_dashboard_shows_every_time_in_the_event_zone(site_env, tmp_path, page: Page):
    """The laptop's zone (UTC here) is not the event's: the next talk, a silence and the header all say the event's."""
    import asyncio
    import threading

    from testing.processes import TEST_CONFIG_DIR, TEST_SECRET
    from tracker.encoders import store

    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text((TEST_CONFIG_DIR / "config.json").read_text())
    private = {"config": {"secret": TEST_SECRET, "event-timezone": "Pacific/Kiritimati"}}  # UTC+14
    (config / "config.private.json").write_text(json.dumps(private))
    talk = {"title": "Keynote", "start": "2026-12-27T09:00:00+00:00", "end": "2026-12-27T10:00:00+00:00"}

    async def put_on_stage() -> None:
        redis = store.connect()
        await store.set_room_attr(redis, "example", "nownext", {"now": None, "next": talk})
        await redis.aclose()

    with running({**site_env, "ROOMS_CONFIG_DIR": str(config)}, tmp_path) as site:
        log_in(site, page)
        expect(page.locator('tbody[data-room="example"]')).to_be_visible()
        thread = threading.Thread(target=asyncio.run, args=(put_on_stage(),))  # Playwright owns this loop
        thread.start()
        thread.join()

        # 09:00 UTC is 23:00 in Kiritimati (in the browser's own locale: "11:00 PM" in en-US).
        next_talk = page.locator('tbody[data-room="example"] .nownext')
        expect(next_talk).to_have_text(re.compile(r"^Next (23:00|11:00\sPM): Keynote$"), timeout=5000)
        expect(page.locator("header .zone")).to_have_text("Times in Pacific/Kiritimati")
