"""One clock (issue 15, item 8): pages time talks by the server's clock and
schedule offset from the snapshot, not the browser's; the programme marks the
new talk at a boundary without a reload. Real Chromium."""

import json
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, expect

from frontend import tracker_api
from frontend.tests.test_screens import talk
from testing.browser import fake_live_feed

# A rehearsal a day before the event: the site pretends it is tomorrow.
OFFSET = 86400


def serve(monkeypatch, room: dict, day: list[dict]) -> None:
    """The tracker's answers for the room, in a rehearsal: the frontend reads the same offset."""
    from django.conf import settings

    monkeypatch.setattr(settings, "SCHEDULE_OFFSET_SECONDS", OFFSET)

    async def room_list():
        return [room]

    async def get(path: str):
        body = {"room": "example", "now": room["now"], "next": room["next"], "day": day}
        return tracker_api.Answer(200, "application/json", json.dumps(body).encode())

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    monkeypatch.setattr(tracker_api, "get", get)


def open_page(browser: Browser, url: str, room: dict, server_time: datetime):
    """`url` in a new browser context whose live socket gets one snapshot of `room` at `server_time`.

    Returns the context, the page and the page's live sockets (to send it changes).
    """
    context = browser.new_context(locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    snapshot = {
        "type": "snapshot",
        "version": 1,
        "time": server_time.timestamp(),
        "schedule_offset": OFFSET,
        "rooms": [room],
    }
    sockets = []

    fake_live_feed(page, json.dumps(snapshot), sockets)
    page.goto(url)
    return context, page, sockets


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
    context, page, _ = open_page(browser, frontend_url + "/example/schedule", room, real)
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

    context, page, _ = open_page(browser, frontend_url + "/example", room, real)

    expect(page.locator(".event time[data-kind=ends]")).to_have_text("ends in 40 minutes")
    expect(page.locator("progress.talk")).to_have_attribute("value", "11")
    context.close()


RELIVE = "https://relive.example/{id}/{guid}"


def recorded_room(monkeypatch, boundary: datetime) -> tuple[dict, dict]:
    """A room with a talk that ended, one on until `boundary`, and the next one."""
    earlier = {**talk("g-0", "Welcome", boundary - timedelta(minutes=60), 30), "id": "7"}
    running = {**talk("g-1", "Opening", boundary - timedelta(minutes=30), 30, "Ada"), "id": "8"}
    coming = {**talk("g-2", "Keynote", boundary, 60, "Grace"), "id": "9"}
    room = {"name": "example", "title": "Example Room", "live": False, "streams": [], "viewers": 0}
    room.update(info={"relive-url": RELIVE}, now=running, next=coming)
    serve(monkeypatch, room, [earlier, running, coming])
    return room, coming


def test_ended_talks_offer_their_recording_and_the_one_ending_now_joins_them(
    frontend_url: str, monkeypatch, browser: Browser
):
    real = datetime.now(UTC)
    room, coming = recorded_room(monkeypatch, boundary=real + timedelta(days=1, seconds=4))

    context, page, _ = open_page(browser, frontend_url + "/example/schedule", room, real)
    links = page.locator("#programme a.relive")
    expect(links.nth(0)).to_be_visible()
    expect(links.nth(0)).to_have_attribute("href", "/example/talk/g-0")
    expect(links.nth(0)).to_have_accessible_name("Watch again: Welcome")
    expect(links.nth(1)).to_be_hidden()  # still on
    expect(links.nth(1)).to_be_visible(timeout=8000)  # ended at the boundary, no reload
    expect(links.nth(2)).to_be_hidden()
    context.close()

    # The room page lists what ended today, and the talk that just ended joins at once.
    real = datetime.now(UTC)
    room, coming = recorded_room(monkeypatch, boundary=real + timedelta(days=1, minutes=1))
    context, page, sockets = open_page(browser, frontend_url + "/example", room, real)
    recorded = page.locator("#recorded a")
    expect(recorded).to_have_text(["Welcome"])
    expect(recorded).to_have_attribute("href", "/example/talk/g-0")
    sockets[0].send(json.dumps({"type": "room", "version": 2, "room": {**room, "now": coming, "next": None}}))
    expect(recorded).to_have_text(["Opening", "Welcome"])
    expect(recorded.first).to_have_attribute("href", "/example/talk/g-1")
    context.close()


def test_watch_again_prefers_the_schedules_recording_and_never_links_an_opted_out_talk(
    frontend_url: str, monkeypatch, browser: Browser
):
    real = datetime.now(UTC)
    boundary = real + timedelta(days=1, minutes=10)
    recorded = {**talk("g-0", "Welcome", boundary - timedelta(minutes=90), 30), "id": "7"}
    recorded["recording"] = "https://media.example/v/welcome"
    opted_out = {**talk("g-1", "Off the record", boundary - timedelta(minutes=60), 30), "id": "8"}
    opted_out["do_not_record"] = True
    running = {**talk("g-2", "Opening", boundary - timedelta(minutes=30), 40), "id": "9"}
    room = {"name": "example", "title": "Example Room", "live": False, "streams": [], "viewers": 0}
    room.update(info={"relive-url": RELIVE}, now=running, next=None)
    serve(monkeypatch, room, [recorded, opted_out, running])
    context, page, sockets = open_page(browser, frontend_url + "/example/schedule", room, real)
    items = page.locator("#programme li")

    def check() -> None:
        expect(items.nth(0).locator("a.relive")).to_have_attribute("href", "/example/talk/g-0")
        expect(items.nth(0).locator("a.relive")).to_be_visible()
        expect(items.nth(1).locator("a.relive")).to_have_count(0)  # the speakers opted out
        expect(items.nth(2).locator("a.relive")).to_have_attribute("href", "/example/talk/g-2")
        expect(items.nth(2).locator("a.relive")).to_be_hidden()  # still on

    check()  # as the server renders it
    page.evaluate("document.querySelectorAll('#programme li').forEach((li) => (li.dataset.old = '1'))")
    sockets[0].send(json.dumps({"type": "schedule", "version": 2, "room": "example"}))
    expect(page.locator("#programme li[data-old]")).to_have_count(0)  # redrawn from the <template>
    check()  # as the script renders it
    expect(items.nth(1).locator(".title")).to_have_attribute("href", "https://events.example/talk/g-1")
    expect(items.nth(1).locator(".speakers")).to_have_count(0)
    context.close()

    context, page, _ = open_page(browser, frontend_url + "/example", room, real)
    expect(page.locator("#recorded a")).to_have_text(["Welcome"])  # newest first, none for the opted-out talk
    expect(page.locator("#recorded a")).to_have_attribute("href", "/example/talk/g-0")
    context.close()
