"""One clock (issue 15, item 8): pages time talks by the server's clock and
schedule offset from the snapshot, not the browser's; the programme marks the
new talk at a boundary without a reload. Real Chromium."""

import json
import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, expect

from frontend import tracker_api
from frontend.tests.test_screens import talk

# A rehearsal a day before the event: the site pretends it is tomorrow.
OFFSET = 86400


def serve(monkeypatch, room: dict, day: list[dict]) -> None:
    async def room_list():
        return [room]

    async def get(path: str):
        body = {"room": "example", "now": room["now"], "next": room["next"], "day": day}
        return tracker_api.Answer(200, "application/json", json.dumps(body).encode())

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    monkeypatch.setattr(tracker_api, "get", get)


def open_page(browser: Browser, url: str, room: dict, server_time: datetime):
    context = browser.new_context(locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    snapshot = {
        "type": "snapshot",
        "version": 1,
        "time": server_time.timestamp(),
        "schedule_offset": OFFSET,
        "rooms": [room],
    }
    page.route_web_socket(re.compile(r".*/ws/live/$"), lambda socket: socket.send(json.dumps(snapshot)))
    page.goto(url)
    return context, page


def test_the_programme_marks_the_new_talk_at_the_boundary_by_the_servers_clock(
    frontend_url: str, monkeypatch, browser: Browser
):
    real = datetime.now(UTC)
    boundary = real + timedelta(days=1, seconds=4)  # in the schedule's time
    first = talk("1", "Opening", boundary - timedelta(minutes=30), 30, "Ada")
    second = talk("2", "Keynote", boundary, 60, "Grace")
    room = {"name": "example", "title": "Example Room", "live": False, "streams": [], "viewers": 0, "info": {}}
    room.update(now=first, next=second)
    serve(monkeypatch, room, [first, second])

    # The browser's own clock says neither talk is on (they are tomorrow).
    context, page = open_page(browser, frontend_url + "/example/schedule", room, real)
    page.evaluate("window.notReloaded = true")
    current = page.locator("#programme li.current")

    expect(current).to_contain_text("Opening")
    expect(current).to_have_attribute("aria-current", "true")
    expect(current).to_contain_text("Keynote", timeout=8000)
    expect(page.locator("#programme li.current")).to_have_count(1)
    expect(page.locator("#announce")).to_have_text("Now: Keynote")
    assert page.evaluate("window.notReloaded") is True
    context.close()


def test_a_talk_that_just_started_in_a_rehearsal_does_not_say_ending_now(
    frontend_url: str, monkeypatch, browser: Browser
):
    real = datetime.now(UTC).replace(microsecond=0)
    start = real + timedelta(days=1, minutes=-5)
    on = talk("1", "Opening", start, 45, "Ada")
    room = {"name": "example", "title": "Example Room", "live": False, "streams": [], "viewers": 0, "info": {}}
    room.update(now=on, next=None)
    serve(monkeypatch, room, [on])

    context, page = open_page(browser, frontend_url + "/example", room, real)

    expect(page.locator(".event time[data-kind=ends]")).to_have_text("ends in 40 minutes")
    expect(page.locator("progress.talk")).to_have_attribute("value", "11")
    context.close()
