"""/graphs: viewers on this site, players on the streaming servers and bandwidth, stacked per room,
from the history API, in Chromium: room titles, labelled axes readable on a phone, the figures in a table."""

import asyncio
import re
import threading
import time

from playwright.sync_api import Page, expect

from frontend.tests.test_screens import shot
from testing.factories import post_heartbeat
from testing.processes import Site, running
from tracker.encoders import history, store


def add_history_point(*, now: float, tabs: int = 0) -> None:
    """What the worker does every step, done now (in a thread: Playwright owns this one's loop),
    with `tabs` on room example's page (as the live feed counts them)."""

    async def add() -> None:
        redis = store.connect()
        await store.set_viewer_counts(redis, {"example": tabs})
        await history.add_points(redis, rooms=["example", "hall-2"], now=now, keep_hours=24)
        await redis.aclose()

    thread = threading.Thread(target=asyncio.run, args=(add(),))
    thread.start()
    thread.join()


def test_graphs_stack_rooms_and_follow_new_points(site_env, tmp_path, page: Page):
    # No worker: the test adds the history points itself, at steps of its choosing.
    with running(site_env, tmp_path, worker=False) as site:
        graphs_follow_new_points(site, page)


def graphs_follow_new_points(site: Site, page: Page) -> None:
    token = site.add_encoder("example", "cam-1")
    # Encoded at 3 Mbit/s; the server measured 4 Mbit/s going out: the graph shows bandwidth.
    stream = {
        "format": "hls",
        "url": "https://cdn.example/a.m3u8",
        "clients": 7,
        "bitrate": 3_000_000,
        "bandwidth": 4_000_000,
    }
    post_heartbeat(site.url, {"room": "example", "encoder": "cam-1", "interval": 30, "streams": [stream]}, token=token)
    for minutes in range(58, 0, -2):  # the hour before, oldest first
        add_history_point(now=time.time() - minutes * 60, tabs=20 + minutes % 7 * 3)
    add_history_point(now=time.time() - 20, tabs=3)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site.url + "/graphs")

    expect(page).to_have_title("Viewers and bandwidth · Live streams")
    expect(page.locator("#legend li")).to_have_text(["Example Room", "hall-2"])
    figures = page.locator('#figures tr[data-room="example"] td')
    expect(figures).to_have_text(["3", "7", "4.0 Mbit/s"])
    expect(page.locator("#clients polygon")).to_have_count(2)
    # The y axis up to a round top, labelled; on a phone its words are still 13 px, not 6.
    expect(page.locator("#clients text.axis").nth(2)).to_have_text("10")
    expect(page.locator("#tabs")).to_have_attribute("aria-label", re.compile(r"Viewers on this site .*: 3 now$"))
    assert page.locator("#bitrate text.axis").first.evaluate("node => node.getBoundingClientRect().height") >= 12
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    expect(page.locator("#tabs polygon").first).to_have_attribute("points", re.compile(r"(\S+ ){30}"))
    shot(page, "graphs-phone")

    stream["bandwidth"] = 6_000_000
    post_heartbeat(site.url, {"room": "example", "encoder": "cam-1", "interval": 30, "streams": [stream]}, token=token)
    add_history_point(now=time.time() + 10)  # the next step
    page.click("[data-range='10']")

    expect(figures.nth(2)).to_have_text("6.0 Mbit/s")
    expect(page.locator("[data-range='10']")).to_have_attribute("aria-pressed", "true")
