"""/graphs: stacked clients and bandwidth per room, from the history API, in Chromium."""

import asyncio
import threading
import time

from playwright.sync_api import Page, expect

from testing.factories import post_heartbeat
from testing.processes import Site, running
from tracker.encoders import history, store


def add_history_point(*, now: float) -> None:
    """What the worker does every step, done now (in a thread: Playwright owns this one's loop)."""

    async def add() -> None:
        redis = store.connect()
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
    add_history_point(now=time.time() - 20)

    page.goto(site.url + "/graphs")

    expect(page.locator("#legend li")).to_have_text(["example", "hall-2"])
    expect(page.locator("#bitrate text").first).to_have_text("4.0 Mbit/s")
    expect(page.locator("#clients text").first).to_have_text("7")
    expect(page.locator("#clients polygon")).to_have_count(2)

    stream["bandwidth"] = 6_000_000
    post_heartbeat(site.url, {"room": "example", "encoder": "cam-1", "interval": 30, "streams": [stream]}, token=token)
    add_history_point(now=time.time() + 10)  # the next step
    page.click("[data-range='10']")

    expect(page.locator("#bitrate text").first).to_have_text("6.0 Mbit/s")
    expect(page.locator("[data-range='10']")).to_have_attribute("aria-pressed", "true")
