"""What a viewer sees, in a real headless Chromium against real daphne,
worker and Redis processes."""

import time

from playwright.sync_api import Browser, Page, expect

from conftest import Site, post_heartbeat


def example_heartbeat() -> dict:
    return {
        "room": "example",
        "encoder": "cam-1",
        "interval": 1,
        "streams": [{"format": "webm", "url": "http://127.0.0.1:9/none.webm", "clients": 0, "bitrate": 1}],
    }


def test_room_page_goes_live_and_offline_without_reload(site: Site, page: Page):
    page.goto(site.url + "/example")
    expect(page.locator("#state")).to_have_text("Offline")
    expect(page.locator("#offline")).to_be_visible()
    expect(page.locator("#player")).to_be_hidden()
    page.evaluate("window.notReloaded = true")

    post_heartbeat(site.url, example_heartbeat(), token=site.add_encoder("example", "cam-1"))
    expect(page.locator("#state")).to_have_text("Live", timeout=5000)
    expect(page.locator("#player")).to_be_visible()
    expect(page.locator("#offline")).to_be_hidden()
    expect(page.locator("#video")).to_have_attribute("src", "http://127.0.0.1:9/none.webm")

    # No more heartbeats: offline within interval (1 s) + grace (1 s) + 1 s.
    stopped = time.monotonic()
    expect(page.locator("#state")).to_have_text("Offline", timeout=6000)
    assert time.monotonic() - stopped <= 1 + 1 + 1 + 1.5  # plus browser polling slack
    expect(page.locator("#player")).to_be_hidden()
    assert page.evaluate("window.notReloaded") is True


def test_index_adds_and_removes_live_rooms(site: Site, page: Page):
    page.goto(site.url + "/")
    expect(page.locator("#no-rooms")).to_be_visible()
    expect(page.locator("#rooms li")).to_have_count(0)

    post_heartbeat(site.url, example_heartbeat(), token=site.add_encoder("example", "cam-1"))
    expect(page.locator("#rooms li a")).to_have_text(["Example Room"], timeout=5000)
    expect(page.locator("#no-rooms")).to_be_hidden()

    expect(page.locator("#rooms li")).to_have_count(0, timeout=6000)
    expect(page.locator("#no-rooms")).to_be_visible()


def test_room_page_already_live_renders_player_without_javascript(site: Site, browser: Browser):
    post_heartbeat(site.url, {**example_heartbeat(), "interval": 30}, token=site.add_encoder("example", "cam-1"))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()

    page.goto(site.url + "/example")

    expect(page.locator("#state")).to_have_text("Live")
    expect(page.locator("#player")).to_be_visible()
    context.close()
