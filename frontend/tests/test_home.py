"""The home page follows the configuration (issue 15, item 1): a room added
by a config reload gets its card, from the page's own <template>, without a
reload. Real Chromium; the live feed is set by the test."""

import json
import re

from playwright.sync_api import Browser, expect

from frontend.tests.test_screens import scripted, still  # noqa: F401 (fixtures)
from testing.browser import fake_live_feed


def test_a_room_added_by_a_config_reload_gets_its_card_without_reload(browser: Browser, scripted):  # noqa: F811
    url, rooms, snapshot = scripted
    sockets = []

    page = browser.new_page(locale="en-GB", timezone_id="UTC")
    try:
        fake_live_feed(page, snapshot, sockets)
        page.goto(url + "/")
        expect(page.locator(".room-card")).to_have_count(2)
        page.evaluate("window.notReloaded = true")

        added = {
            "name": "hall-3",
            "title": "Hall 3 <new>",
            "live": False,
            "streams": [],
            "viewers": 12,
            "info": {},
            "now": None,
            "next": {**rooms[1]["next"], "title": "Workshop", "speakers": ["Ada"]},
        }
        sockets[0].send(json.dumps({"type": "room", "version": 2, "room": added}))

        card = page.locator('.room-card[data-room="hall-3"]')
        expect(card.locator("h2 a")).to_have_text("Hall 3 <new>")
        expect(card.locator("h2 a")).to_have_attribute("href", "/hall-3")
        expect(card.locator(".state")).to_have_text("Offline")
        expect(card.locator(".viewers")).to_have_text("12 watching on this site")
        expect(card.locator(".event")).to_have_text(re.compile(r"^Next Workshop Ada starts at \d\d:\d\d [AP]M$"))
        expect(card.locator(".offline-note")).to_be_visible()
        expect(card.locator("img")).to_have_count(0)  # no preview configured, no empty picture
        assert page.evaluate("window.notReloaded") is True
    finally:
        page.close()
