"""The player believes the media, and the page never says "offline" because
of our own outage (issue 13, items 2 and 3): real Chromium, real daphne."""

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from frontend import tracker_api
from frontend.tests.test_browser import Encoders, stream
from testing.processes import running


def playing_time(page: Page) -> float:
    return page.evaluate("document.getElementById('video').currentTime")


@pytest.mark.timed
def test_heartbeats_stop_but_the_media_flows_so_the_video_keeps_playing(
    site_env: dict, tmp_path: Path, page: Page, media_url: str
):
    with running({**site_env, "PLAYER_TRUST_MEDIA_SECONDS": "6"}, tmp_path) as site, Encoders(site) as encoders:
        encoders.add("cam-1", stream(media_url + "/a.webm"))
        page.goto(site.url + "/example")
        expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)

        encoders.stop("cam-1")  # the tracker turns the room offline; the file keeps arriving

        expect(page.locator("#state")).to_have_text("Status unknown", timeout=6000)
        doubted = time.monotonic()
        expect(page.locator("#announce")).to_have_text("Example Room: status unknown, the stream is still playing")
        expect(page.locator("#offline")).to_be_hidden()
        expect(page.locator("#player")).to_be_visible()
        before = playing_time(page)
        page.wait_for_timeout(1500)
        assert playing_time(page) > before + 1  # still playing, not torn down
        assert page.evaluate("document.getElementById('video').paused") is False

        # The configured trust (6 s) runs out: now it is offline.
        expect(page.locator("#state")).to_have_text("Offline", timeout=8000)
        assert time.monotonic() - doubted >= 4
        expect(page.locator("#offline")).to_be_visible()
        expect(page.locator("#announce")).to_have_text("Example Room went offline")


def test_offline_shows_once_the_media_stops_too(site_env: dict, tmp_path: Path, page: Page, media_url: str):
    with running(site_env, tmp_path) as site, Encoders(site) as encoders:
        encoders.add("cam-1", stream(media_url + "/short.webm"))
        page.goto(site.url + "/example")
        expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)

        encoders.stop("cam-1")

        expect(page.locator("#state")).to_have_text("Status unknown", timeout=6000)
        # The 8 s clip ends: the media stopped too, so the room is offline
        # long before the default trust of 900 s.
        expect(page.locator("#state")).to_have_text("Offline", timeout=10000)
        expect(page.locator("#offline")).to_be_visible()
        expect(page.locator("#player")).to_be_hidden()


def live_room() -> dict:
    return {
        "name": "example",
        "title": "Example Room",
        "live": True,
        "streams": [{"format": "webm", "quality": "hd", "url": "http://127.0.0.1:9/none.webm"}],
        "viewers": 4,
        "info": {},
        "now": None,
        "next": None,
    }


def test_a_lost_live_feed_says_status_may_be_stale_never_offline(frontend_url: str, monkeypatch, browser: Browser):
    room = live_room()

    async def room_list():
        return [room]

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    connections = []

    def feed(socket: WebSocketRoute) -> None:
        connections.append(socket)
        if len(connections) == 1:
            socket.send(json.dumps({"type": "snapshot", "version": 1, "rooms": [room]}))
        socket.close()  # then the tracker is unreachable: every reconnect fails

    context = browser.new_context()
    page = context.new_page()
    page.route_web_socket(re.compile(r".*/ws/live/$"), feed)
    page.goto(frontend_url + "/example")

    expect(page.locator("#connection")).to_have_text("Reconnecting…")
    expect(page.locator("#state")).to_have_text("Live")
    expect(page.locator("#connection")).to_have_text(
        "Status may be stale: reconnecting to the live feed…", timeout=12000
    )
    assert len(connections) >= 3  # it kept trying
    expect(page.locator("#state")).to_have_text("Live")  # the last state we had, not "offline"
    expect(page.locator("#offline")).to_be_hidden()
    expect(page.locator("body")).to_have_class(re.compile(r"\bstale\b"))
    context.close()
