"""Recordings that play here (issue 26, item 3): "watch again" opens the talk's page with its own
player; an ffmpeg-made VOD playlist (two audio languages) served on loopback plays through hls.js
and seeks; a WebM file plays natively; the player keys work; talks opted out of recording have no
page. Real Chromium, real media over HTTP."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend import tracker_api
from frontend.tests.test_accessibility import serious_violations
from frontend.tests.test_screens import shot, talk
from frontend.tests.test_translations import hls_url  # noqa: F401 (fixture)
from testing.browser import fake_live_feed

ABSTRACT = "Wie man Konferenzen streamt.\n\nZweiter Absatz."


@pytest.fixture
def recorded(frontend_url: str, monkeypatch, hls_url: str, media_url: str):  # noqa: F811
    """Room "example" whose relive template names each talk's recording by id: an HLS playlist
    for talk 7 (German, ended), a WebM file for 8, a talk opted out (9) and one still on (10)."""
    now = datetime.now(UTC)
    talks = {
        "g-7": {**talk("g-7", "Konferenzen streamen", now - timedelta(hours=2), 45, "Ada", "Grace"), "id": "7"},
        "g-8": {
            **talk("g-8", "A file", now - timedelta(hours=1), 30),
            "id": "8",
            "recording": media_url + "/short.webm",
        },
        "g-9": {**talk("g-9", "Off the record", now - timedelta(minutes=50), 20), "id": "9", "do_not_record": True},
        "g-10": {**talk("g-10", "Still on", now - timedelta(minutes=10), 30), "id": "10"},
    }
    talks["g-7"].update(language="de", abstract=ABSTRACT)
    room = {"name": "example", "title": "Example Room", "live": False, "streams": [], "viewers": 0}
    room.update(info={"relive-url": hls_url + "/master.m3u8?talk={id}"}, now=talks["g-10"], next=None)

    async def room_list():
        return [room]

    async def get(path: str):
        guid = re.search(r"/talks/([^/]+)\.json$", path)
        if guid and guid.group(1) in talks:
            return tracker_api.Answer(200, "application/json", json.dumps(talks[guid.group(1)]).encode())
        if guid:
            return tracker_api.Answer(404, "application/json", b'{"error": "unknown_talk", "field": "talk"}')
        return tracker_api.Answer(200, "application/json", json.dumps({"day": list(talks.values())}).encode())

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    monkeypatch.setattr(tracker_api, "get", get)
    return frontend_url


def open_page(browser: Browser, url: str, **options) -> Page:
    context = browser.new_context(locale="en-GB", **options)
    page = context.new_page()
    fake_live_feed(page, None)
    page.goto(url)
    return page


def playing_past(page: Page, seconds: float) -> None:
    page.wait_for_function(f"document.getElementById('video').currentTime > {seconds}", timeout=15000)


def test_watch_again_opens_the_talks_page_where_the_playlist_plays_and_seeks(recorded, browser: Browser):
    page = open_page(browser, recorded + "/example/schedule", viewport={"width": 1366, "height": 768})
    page.get_by_role("link", name="Watch again: Konferenzen streamen").click()

    expect(page).to_have_url(re.compile(r"/example/talk/g-7$"))
    expect(page.locator("h1")).to_have_text("Konferenzen streamen")
    expect(page.locator("h1")).to_have_attribute("lang", "de")
    expect(page.locator(".on-stage .speakers")).to_have_text("Ada, Grace")
    expect(page.locator(".abstract p")).to_have_text(["Wie man Konferenzen streamt.", "Zweiter Absatz."])
    expect(page.get_by_role("link", name="The recording itself")).to_have_attribute(
        "href", re.compile(r"master\.m3u8\?talk=7$")
    )
    expect(page.locator(".keys")).to_contain_text("k or space play and pause")
    # The playlist's two audio languages, as the recording has them.
    expect(page.locator("#language option")).to_have_text(["English", "German"], timeout=15000)

    page.locator("body").press("k")
    playing_past(page, 0.5)
    page.locator("body").press("m")
    assert page.evaluate("document.getElementById('video').muted") is True
    expect(page.locator("#announce")).to_have_text("Sound off")
    page.evaluate("document.getElementById('video').currentTime = 6")
    playing_past(page, 6.3)  # seeked into the third segment, and playing on from there
    page.locator("body").press("k")
    expect(page.locator("#announce")).to_have_text("Paused")
    assert page.evaluate("document.getElementById('video').paused") is True
    assert not serious_violations(page)
    shot(page, "recording-1366x768-light")
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_file_plays_natively_and_seeks_on_a_phone(recorded, browser: Browser, scheme):
    page = open_page(
        browser, recorded + "/example/talk/g-8", viewport={"width": 390, "height": 844}, color_scheme=scheme
    )
    video = page.locator("#video")
    expect(video).to_have_attribute("src", re.compile(r"/short\.webm$"))
    page.evaluate("document.getElementById('video').muted = true; document.getElementById('video').play()")
    playing_past(page, 0.5)
    page.evaluate("document.getElementById('video').currentTime = 5")
    playing_past(page, 5.2)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert not serious_violations(page)
    page.context.close()


def test_no_page_for_a_talk_opted_out_or_unknown_and_none_playing_before_it_ended(recorded, browser: Browser):
    page = open_page(browser, recorded + "/example/talk/g-9")
    expect(page.locator("h1")).to_have_text("Not found")
    page.goto(recorded + "/example/talk/nothing")
    expect(page.locator("h1")).to_have_text("Not found")
    page.goto(recorded + "/example/talk/g-10")
    expect(page.locator(".slate")).to_contain_text("has not ended yet")
    expect(page.locator("video")).to_have_count(0)
    page.context.close()
