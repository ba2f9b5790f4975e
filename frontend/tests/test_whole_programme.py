"""The programme across rooms (issue 26, items 1, 2 and 6): 39C3's real Fahrplan, read by the
tracker of this process from Redis, shown by the frontend in real Chromium at three sizes and
both themes; the talk on now moves at a boundary by the server's clock, without a reload; one
time zone and one format for every time on the page; German titles say so."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend.tests.test_accessibility import serious_violations
from frontend.tests.test_screens import shot
from testing.browser import fake_live_feed
from tracker.encoders import store
from tracker.programme import sync

FAHRPLAN = Path(__file__).resolve().parents[2] / "tracker/schedule/tests/real/39c3-hub-schedule.xml"
# Four rooms of 39C3 as this site's rooms: (room, the Fahrplan's name for it).
ROOMS = {"example": "One", "hall-2": "Ground", "zero": "Zero", "fuse": "Fuse"}
# Four seconds before 11:55 in Hamburg on the first day, when every one of them starts a talk.
BOUNDARY = datetime(2025, 12, 27, 10, 55, tzinfo=UTC)
SIZES = {"phone": (390, 844), "laptop": (1366, 768), "wall": (1920, 1080)}
# Every time the page shows, as its language (English) writes them: "11:55 AM", or
# "12:20 AM (Sun, Dec 28)" when not on the heading's date.
CLOCK = re.compile(r"^\d\d:\d\d [AP]M( \(\w{3}, \w{3} \d{1,2}\))?$")


def synced() -> None:
    """What the worker does after a config change, done now (in a thread: Playwright owns this one's loop)."""

    async def run() -> None:
        redis = store.connect()
        await sync.sync(redis)
        await redis.aclose()

    thread = threading.Thread(target=asyncio.run, args=(run(),))
    thread.start()
    thread.join()


@pytest.fixture
def fahrplan(use_config, redis, frontend_url, settings) -> tuple[str, float]:
    """The frontend over the tracker of this process, which has synced 39C3's Fahrplan for four
    rooms, rehearsing four seconds before BOUNDARY; returns (url, the rehearsal offset)."""
    berlin = {"schedule": str(FAHRPLAN), "schedule-timezone": "Europe/Berlin"}
    rooms = {name: {"title": f"Saal {key}", "schedule-key": key, **berlin} for name, key in ROOMS.items()}
    use_config(**rooms)
    synced()
    offset = (BOUNDARY - timedelta(seconds=4) - datetime.now(UTC)).total_seconds()
    settings.SCHEDULE_OFFSET_SECONDS = offset
    return frontend_url, offset


def open_page(browser: Browser, url: str, offset: float, size=(1366, 768), scheme="light", **options) -> Page:
    """The page, its clock set by the snapshot: the server's time and the rehearsal offset. Its time is
    taken at each connect, as the server's is: a page that reconnected on a loaded machine (CI) was
    otherwise set seconds back, before the boundary it had just marked, and took the mark off again."""
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, color_scheme=scheme, locale="en-GB", **options
    )
    page = context.new_page()
    fake_live_feed(
        page,
        lambda: json.dumps(
            {"type": "snapshot", "version": 1, "time": time.time(), "schedule_offset": offset, "rooms": []}
        ),
    )
    page.goto(url)
    return page


def shown_times(page: Page) -> list[str]:
    return page.locator("main time[data-clock]:visible").all_inner_texts()


def test_every_room_side_by_side_and_the_talk_on_now_moves_at_the_boundary(fahrplan, browser: Browser):
    url, offset = fahrplan
    page = open_page(browser, url + "/programme", offset, timezone_id="America/New_York")
    page.evaluate("window.notReloaded = true")
    grid = page.locator("#fahrplan")

    heads = grid.locator(".room-head")
    expect(heads).to_have_text([f"Saal {key}" for key in ROOMS.values()])
    expect(heads.first).to_have_attribute("href", "/example")
    expect(page.locator(".days a")).to_have_text(
        ["Saturday 27 December", "Sunday 28 December", "Monday 29 December", "Tuesday 30 December"]
    )
    expect(page.locator('.days a[aria-current="page"]')).to_have_text("Saturday 27 December")
    expect(grid.locator(".talk.current")).to_have_count(0)  # a break in every room

    # 11:55 in Hamburg: each of the four rooms starts its next talk, by the server's clock, not the browser's.
    expect(grid.locator(".talk.current")).to_have_count(4, timeout=10000)
    expect(grid.locator(".talk.current").first).to_contain_text("11:55 AM\N{EN DASH}12:35 PM")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#announce")).to_have_text(re.compile(r"^Now: [^;]+(; [^;]+){3}$"))

    # The event's zone (Hamburg), though the browser is in New York; every time in one format.
    times = shown_times(page)
    assert len(times) > 100 and all(CLOCK.match(text) for text in times), [t for t in times if not CLOCK.match(t)][:5]
    expect(page.locator("#clock-zone-name")).to_have_text("Times in the event's time zone (Europe/Berlin)")
    # After midnight the date says so: One's last talk of the day ends on the 28th.
    assert any(text.endswith("(Sun, Dec 28)") for text in times)

    # The viewer's own zone, remembered across pages.
    page.get_by_role("button", name="My time zone").click()
    expect(grid.locator(".talk.current h4").first).to_be_visible()
    expect(grid.locator(".talk.current time").first).to_have_text("05:55 AM")
    page.goto(url + "/example/schedule")
    expect(page.locator("#programme li.current time").first).to_have_text("05:55 AM")
    expect(page.get_by_role("button", name="My time zone")).to_have_attribute("aria-pressed", "true")
    page.context.close()


def test_the_day_switcher_shows_another_day_and_german_titles_say_so(fahrplan, browser: Browser):
    url, offset = fahrplan
    page = open_page(browser, url + "/programme", offset, size=(390, 844))
    page.get_by_role("link", name="Monday 29 December").click()

    expect(page).to_have_url(re.compile(r"\?day=2025-12-29$"))
    expect(page.locator("h2.date-heading")).to_have_text("Monday 29 December")
    expect(page.locator("#fahrplan .talk.current")).to_have_count(0)
    # On a phone: a list by start time, each talk naming its room with a link to it.
    assert page.locator("#fahrplan .room-head").first.is_hidden()
    expect(page.locator("#fahrplan .talk .room").first).to_be_visible()
    german = page.locator('#fahrplan .title[lang="de"]')
    assert german.count() > 3 and page.locator('#fahrplan .title[lang="en"]').count() > 3
    page.goto(url + "/example/schedule?day=2025-12-28")
    expect(page.locator('.days a[aria-current="page"]')).to_have_text("Sunday 28 December")
    assert page.locator('#programme .title[lang="de"]').count() >= 1
    page.context.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_whole_programme_at_every_size_and_theme(fahrplan, browser: Browser, size, scheme):
    url, offset = fahrplan
    page = open_page(browser, url + "/programme", offset, size=SIZES[size], scheme=scheme)
    expect(page.locator("#fahrplan .talk.current").first).to_be_visible()
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "the page scrolls sideways"
    assert not serious_violations(page)
    shot(page, f"whole-programme-{size}-{scheme}")
    page.context.close()
