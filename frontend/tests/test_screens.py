"""What a viewer sees at phone (390x844) and laptop (1366x768) sizes, in light
and dark themes: every room on the home page, the talk above the fold on the
room page, no horizontal scrolling. Real Chromium against the frontend of this
process, with the tracker's answers and live feed set by the test.

With SCREENSHOTS=<folder> each page is also saved there as a PNG (that is how
docs/screenshots/ is made)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend import tracker_api
from testing.browser import fake_live_feed
from testing.server import serving_folder

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def talk(guid: str, title: str, start: datetime, minutes: int, *speakers: str) -> dict:
    return {
        "guid": guid,
        "title": title,
        "speakers": list(speakers),
        "start": iso(start),
        "end": iso(start + timedelta(minutes=minutes)),
        "url": f"https://events.example/talk/{guid}",
        "generated": False,
        "filler": "",
    }


def event_rooms(now: datetime, media_url: str) -> list[dict]:
    """A conference at 14:20: one hall live, one whose encoder failed, one starting soon."""
    opening = now - timedelta(minutes=25)
    return [
        {
            "name": "example",
            "title": "Example Room",
            "live": True,
            "streams": [
                {"format": "webm", "quality": "hd", "url": media_url + "/a.webm"},
                {"format": "audio", "quality": "", "url": media_url + "/audio.webm"},
            ],
            "viewers": 1284,
            "info": {"preview": "https://cdn.example/hall.png", "irc": "ircs://irc.hackint.org:6697/#hall"},
            "now": talk("1", "Resilient streaming for large events", opening, 45, "Ada Lovelace", "Grace Hopper"),
            "next": talk("2", "Keynote: the next ten years", opening + timedelta(minutes=60), 60, "Margaret Hamilton"),
        },
        {
            "name": "hall-2",
            "title": "Hall 2",
            "live": False,
            "streams": [],
            "viewers": 0,
            "info": {},
            "now": None,
            "next": talk("3", "Lightning talks", now + timedelta(hours=2), 60),
        },
    ]


def programme(rooms: list[dict]) -> dict:
    now, next_ = rooms[0]["now"], rooms[0]["next"]
    return {"room": "example", "now": now, "next": next_, "day": [now, next_]}


@pytest.fixture
def scripted(frontend_url: str, monkeypatch, media_url: str):
    """The frontend with the rooms above; returns (url, rooms, snapshot text)."""
    now = datetime.now(UTC).replace(microsecond=0)
    rooms = event_rooms(now, media_url)

    async def room_list():
        return rooms

    async def get(path: str):
        return tracker_api.Answer(200, "application/json", json.dumps(programme(rooms)).encode())

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    monkeypatch.setattr(tracker_api, "get", get)
    snapshot = {"type": "snapshot", "version": 1, "time": now.timestamp(), "schedule_offset": 0, "rooms": rooms}
    return frontend_url, rooms, json.dumps(snapshot)


@pytest.fixture(params=[(size, scheme) for size in SIZES for scheme in ("light", "dark")], ids=lambda p: "-".join(p))
def view(request, browser: Browser, scripted, still: Path) -> Iterator[tuple[Page, str, str]]:
    size, scheme = request.param
    url, _, snapshot = scripted
    context = browser.new_context(viewport=SIZES[size], color_scheme=scheme, locale="en-GB", timezone_id="UTC")
    context.route("https://cdn.example/**", lambda route: route.fulfill(path=still, content_type="image/png"))
    page = context.new_page()
    fake_live_feed(page, snapshot)
    yield page, url, f"{size}-{scheme}"
    context.close()


@pytest.fixture(scope="session")
def still(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A preview still of the room: a frame of ffmpeg's test picture."""
    path = tmp_path_factory.mktemp("still") / "still.png"
    picture = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360", "-frames:v", "1", str(path)]
    subprocess.run(picture, check=True, timeout=60)
    return path


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"


def above_the_fold(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= page.viewport_size["height"], f"{selector} below the fold"


def test_home_shows_every_room_with_the_offline_one_and_its_next_talk(view):
    page, url, name = view
    page.goto(url + "/")

    live, failed = page.locator('.room-card[data-room="example"]'), page.locator('.room-card[data-room="hall-2"]')
    expect(live.locator(".state")).to_have_text("Live")
    expect(live.locator("img[data-still]")).to_be_visible()
    expect(live.locator(".viewers")).to_have_text("1284 watching on this site")
    expect(live.locator(".event .title").first).to_have_text("Resilient streaming for large events")
    expect(live.locator("progress.talk")).to_have_attribute("value", re.compile(r"^5[4-6]$"))
    expect(failed.locator(".state")).to_have_text("Offline")
    # The talk was put two hours after the moment the view was built, a little before now: its hour
    # may be the one before this minute's when an hour turned meanwhile (a CI run met 12:59 against 01:).
    hours = {(datetime.now(UTC) + timedelta(hours=2, minutes=-back)).strftime("%I:") for back in (0, 2)}
    expect(failed.locator(".offline-note")).to_have_text("Not streaming right now.")
    said = re.compile(rf"^Next Lightning talks starts at ({'|'.join(hours)})\d\d [AP]M$")
    expect(failed.locator(".event")).to_have_text(said)
    assert sum(failed.inner_text().count(hour) for hour in hours) == 1  # the next talk's time, said once
    no_horizontal_scroll(page)
    shot(page, f"home-{name}")


def test_room_page_puts_the_talk_above_the_fold(view):
    page, url, name = view
    page.goto(url + "/example")

    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
    for selector in ("#video", ".on-stage h1", ".on-stage .event .title", ".on-stage .speakers", "progress.talk"):
        above_the_fold(page, selector)
    above_the_fold(page, ".on-stage .event:nth-of-type(2)")  # the next talk
    no_horizontal_scroll(page)
    page.wait_for_function("document.getElementById('video').currentTime > 1")
    shot(page, f"room-{name}")


def test_programme_and_embed_fit(view):
    page, url, name = view
    page.goto(url + "/example/schedule")
    expect(page.locator("#programme li.current")).to_contain_text("Resilient streaming")
    no_horizontal_scroll(page)
    shot(page, f"programme-{name}")

    page.goto(url + "/example/embed")
    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
    no_horizontal_scroll(page)
    page.wait_for_function("document.getElementById('video').currentTime > 1")
    shot(page, f"embed-{name}")


def snippets(page: Page, url: str) -> list[str]:
    """The embed snippets the room page offers, as a site owner would copy them."""
    page.goto(url + "/example")
    return page.locator(".embed-snippet code").all_text_contents()


@pytest.mark.parametrize("width", [640, 320])
def test_an_embed_fills_its_frame_without_scrollbars(browser: Browser, scripted, width: int, tmp_path: Path):
    url, _, snapshot = scripted
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    fake_live_feed(context, snapshot)
    page = context.new_page()
    fixed, responsive = snippets(page, url)
    assert 'width="640" height="360"' in fixed
    (tmp_path / "host.html").write_text(f'<!doctype html><div style="width:{width}px">{responsive}</div>{fixed}')
    with serving_folder(tmp_path) as host:  # another origin: Chromium lets only local pages frame local ones
        page.goto(host + "/host.html")
        embeds_fit(page, width)
    context.close()


def embeds_fit(page: Page, width: int) -> None:

    frames = page.locator("iframe")
    expect(frames).to_have_count(2)
    sizes = [frames.nth(i).bounding_box() for i in range(2)]
    assert (round(sizes[0]["width"]), round(sizes[0]["height"])) == (width, width * 9 // 16)  # 16:9 wrapper
    assert (round(sizes[1]["width"]), round(sizes[1]["height"])) == (640, 360)
    for frame in page.frames[1:]:
        expect(frame.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
        root = "document.documentElement"
        fits = f"{root}.scrollHeight <= innerHeight && {root}.scrollWidth <= innerWidth"
        assert frame.evaluate(fits), frame.evaluate(f"[innerWidth, innerHeight, {root}.scrollHeight]")
        video = frame.locator("#video").bounding_box()
        assert video["height"] >= frame.evaluate("innerHeight") - 1  # the picture fills the frame
        # The chooser is in the player's menu, out of the picture until asked for.
        expect(frame.get_by_label("Format")).to_be_hidden()
        frame.get_by_text("Settings").click()
        expect(frame.get_by_label("Format")).to_be_visible()
        assert frame.evaluate(fits)
