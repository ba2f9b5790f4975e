"""The venue's wall (issue 26, item 4): up to 12 rooms on one screen without scrolling at
1366x768 and 1920x1080, a clock, each tile leading to its room, and muted live video from the
lowest rendition when the wall's switch is on, never more players than the cap. Real Chromium."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend import tracker_api
from frontend.tests.test_accessibility import serious_violations
from frontend.tests.test_screens import shot, still, talk  # noqa: F401 (fixture)
from testing.browser import fake_live_feed

SIZES = {"laptop": (1366, 768), "tv": (1920, 1080)}


def rooms_of(count: int, media_url: str) -> list[dict]:
    """`count` rooms, every other one live with an HD and an SD WebM, each with a talk on now and next."""
    now = datetime.now(UTC).replace(microsecond=0)
    rooms = []
    for index in range(count):
        live = index % 2 == 0
        streams = [
            {"format": "webm", "quality": "hd", "url": f"{media_url}/a.webm?room={index}"},
            {"format": "webm", "quality": "sd", "url": f"{media_url}/b.webm?room={index}"},
        ]
        rooms.append(
            {
                "name": f"hall-{index + 1}",
                "title": f"Hall {index + 1}: a room with a long name",
                "live": live,
                "streams": streams if live else [],
                "viewers": 100 * index,
                "info": {"preview": "https://cdn.example/hall.png"},
                "now": talk(f"{index}a", "A talk with a title long enough to need more than one line", now, 40, "Ada"),
                "next": talk(f"{index}b", "The next talk", now + timedelta(minutes=45), 30, "Grace"),
            }
        )
    return rooms


def open_wall(browser: Browser, url: str, rooms: list[dict], picture, size, scheme="light", query="") -> Page:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme, locale="en-GB")
    context.route("https://cdn.example/**", lambda route: route.fulfill(path=picture, content_type="image/png"))
    snapshot = {"type": "snapshot", "version": 1, "time": datetime.now(UTC).timestamp(), "rooms": rooms}
    page = context.new_page()
    fake_live_feed(page, json.dumps(snapshot))
    page.goto(url + "/monitor" + query)
    return page


@pytest.fixture
def wall(frontend_url, monkeypatch, media_url):
    """Serve a wall of `count` rooms: returns a function (count) -> rooms."""

    def serve(count: int) -> list[dict]:
        rooms = rooms_of(count, media_url)

        async def room_list():
            return rooms

        monkeypatch.setattr(tracker_api, "room_list", room_list)
        return rooms

    return serve


def fits(page: Page) -> None:
    """No scrollbar either way, and every tile with its name, state and talk inside the screen."""
    assert page.evaluate(
        "document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth"
    ), "the wall scrolls"
    height, width = page.viewport_size["height"], page.viewport_size["width"]
    for tile in page.locator(".tile").all():
        for part in (tile, tile.locator("h2"), tile.locator(".state"), tile.locator(".event").first):
            box = part.bounding_box()
            assert box and box["y"] >= 0 and box["x"] + box["width"] <= width
            assert box["y"] + box["height"] <= height + 0.5
        inside, name = tile.bounding_box(), tile.locator("h2").bounding_box()
        assert name["y"] + name["height"] <= inside["y"] + inside["height"], "the room's name is cut off"


@pytest.mark.parametrize("count", [4, 6, 9, 12])
@pytest.mark.parametrize("size", SIZES)
def test_the_wall_fits_the_screen_without_scrolling(wall, frontend_url, browser: Browser, still, count, size):  # noqa: F811
    page = open_wall(browser, frontend_url, wall(count), still, SIZES[size])
    expect(page.locator(".tile")).to_have_count(count)
    expect(page.locator(".tile .state").first).to_have_text("Live")
    page.wait_for_timeout(300)  # the grid fitted, the stills shown
    fits(page)
    if count == 12 and size == "tv":
        shot(page, "monitor-1920x1080-12-rooms")
    page.context.close()


def test_the_wall_has_a_clock_and_tiles_leading_to_their_rooms(wall, frontend_url, browser: Browser, still):  # noqa: F811
    page = open_wall(browser, frontend_url, wall(6), still, SIZES["tv"], scheme="dark")
    expect(page.locator("#wall-clock")).to_have_text(re.compile(r"^\d\d:\d\d( [AP]M)?$"))
    assert not serious_violations(page)
    picture = page.locator('.tile[data-room="hall-3"] .preview').bounding_box()  # the link covers the whole tile
    page.mouse.click(picture["x"] + picture["width"] / 2, picture["y"] + picture["height"] / 2)
    expect(page).to_have_url(re.compile(r"/hall-3$"))
    page.context.close()


def test_live_video_is_off_by_default_and_capped_when_on(wall, frontend_url, browser: Browser, still):  # noqa: F811
    rooms = wall(12)  # six of them live
    page = open_wall(browser, frontend_url, rooms, still, SIZES["tv"], query="?players=3")
    expect(page.locator(".tile").first).to_be_visible()
    page.wait_for_timeout(500)
    expect(page.locator(".tile video")).to_have_count(0)

    page.get_by_label(re.compile("Live video in tiles")).check()
    videos = page.locator(".tile video")
    expect(videos).to_have_count(3)
    # The lowest rendition (SD), muted, playing.
    assert all("/b.webm" in src for src in videos.evaluate_all("all => all.map(v => v.currentSrc || v.src)"))
    page.wait_for_function("[...document.querySelectorAll('.tile video')].every(v => v.muted && v.currentTime > 0.2)")
    fits(page)

    page.reload()  # remembered on this wall
    expect(page.locator(".tile video")).to_have_count(3)
    page.get_by_label(re.compile("Live video in tiles")).uncheck()
    expect(page.locator(".tile video")).to_have_count(0)
    page.context.close()
