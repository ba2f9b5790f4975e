"""What a viewer sees, in a real headless Chromium against real daphne,
worker and Redis processes."""

import base64
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend import tracker_api
from testing import factories
from testing.browser import fake_live_feed
from testing.factories import post_heartbeat
from testing.processes import Site
from tracker.live import hub as live


def heartbeat(encoder: str = "cam-1", *streams: dict, interval: int = 1) -> dict:
    """A heartbeat from `encoder`; by default with one WebM stream that plays nothing."""
    silent = factories.stream("http://127.0.0.1:9/none.webm", format="webm", clients=0)
    return factories.heartbeat(*streams or [silent], encoder=encoder, interval=interval)


def stream(url: str, format: str = "webm", quality: str = "hd", clients: int = 0) -> dict:
    return factories.stream(url, format=format, quality=quality, clients=clients)


class Encoders:
    """Encoders heartbeating every half second until stopped, one by one."""

    def __init__(self, site: Site):
        self.site = site
        self.beats: dict[str, tuple[str, dict]] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def add(self, name: str, *streams: dict) -> None:
        token = self.site.add_encoder("example", name)
        body = heartbeat(name, *streams)
        post_heartbeat(self.site.url, body, token=token)
        self.beats[name] = (token, body)

    def stop(self, name: str) -> None:
        self.beats.pop(name)

    def run(self) -> None:
        while not self.done.wait(0.5):
            for token, body in list(self.beats.values()):
                post_heartbeat(self.site.url, body, token=token)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(5)


@pytest.mark.timed
def test_room_page_goes_live_and_offline_without_reload(site: Site, page: Page):
    page.goto(site.url + "/example")
    expect(page.locator("#state")).to_have_text("Offline")
    expect(page.locator("#offline")).to_be_visible()
    expect(page.locator("#player")).to_be_hidden()
    page.evaluate("window.notReloaded = true")

    post_heartbeat(site.url, heartbeat(), token=site.add_encoder("example", "cam-1"))
    expect(page.locator("#state")).to_have_text("Live", timeout=5000)
    expect(page.locator("#player")).to_be_visible()
    expect(page.locator("#offline")).to_be_hidden()

    # No more heartbeats: offline within interval (1 s) + grace (1 s) + 1 s.
    stopped = time.monotonic()
    expect(page.locator("#state")).to_have_text("Offline", timeout=6000)
    assert time.monotonic() - stopped <= 1 + 1 + 1 + 1.5  # plus browser polling slack
    expect(page.locator("#player")).to_be_hidden()
    expect(page.locator("#announce")).to_have_text("Example Room went offline")
    assert page.evaluate("window.notReloaded") is True


def test_index_shows_rooms_going_live_and_offline_without_reload(site: Site, page: Page):
    page.goto(site.url + "/")
    card = page.locator('.room-card[data-room="example"]')
    expect(page.locator(".room-card h2")).to_have_text(["Example Room", "hall-2"])
    expect(card.locator(".state")).to_have_text("Offline")
    expect(card.locator(".offline-note")).to_have_text("Not streaming right now.")

    post_heartbeat(site.url, heartbeat(), token=site.add_encoder("example", "cam-1"))
    expect(card.locator(".state")).to_have_text("Live", timeout=5000)
    expect(card.locator(".offline-note")).to_be_hidden()

    expect(card.locator(".state")).to_have_text("Offline", timeout=6000)
    expect(page.locator(".room-card")).to_have_count(2)  # the room stays, with its state


def test_room_page_already_live_renders_player_without_javascript(site: Site, browser: Browser):
    post_heartbeat(site.url, heartbeat(interval=30), token=site.add_encoder("example", "cam-1"))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()

    page.goto(site.url + "/example")

    expect(page.get_by_role("heading", name="Example Room")).to_be_visible()
    expect(page.locator("#state")).to_have_text("Live")
    expect(page.locator("#player")).to_be_visible()
    expect(page.locator("#video source")).to_have_attribute("src", "http://127.0.0.1:9/none.webm")
    expect(page.locator("#chooser")).to_be_hidden()  # nothing to choose without JavaScript
    context.close()


def test_falls_back_to_the_next_format_when_one_will_not_play(site: Site, page: Page, media_url: str):
    broken = stream("http://127.0.0.1:9/live.m3u8", format="hls")
    good = stream(media_url + "/a.webm")
    post_heartbeat(site.url, heartbeat("cam-1", broken, good, interval=30), token=site.add_encoder("example", "cam-1"))

    page.goto(site.url + "/example")

    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=25000)
    expect(page.locator("#announce")).to_have_text("HLS HD would not play; trying WebM HD.")
    page.wait_for_function("document.getElementById('video').currentTime > 0.5")
    expect(page.locator("#direct-link")).to_have_attribute("href", media_url + "/a.webm")


def test_moves_to_another_endpoint_when_the_playing_one_goes_away(site: Site, page: Page, media_url: str):
    with Encoders(site) as encoders:
        encoders.add("cam-1", stream(media_url + "/a.webm"))
        encoders.add("cam-2", stream(media_url + "/b.webm"))
        page.goto(site.url + "/example")
        expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
        playing = page.locator("#video").get_attribute("src")
        other = {media_url + "/a.webm": media_url + "/b.webm", media_url + "/b.webm": media_url + "/a.webm"}[playing]

        encoders.stop("cam-1" if playing.endswith("/a.webm") else "cam-2")

        expect(page.locator("#video")).to_have_attribute("src", other, timeout=6000)
        expect(page.locator("#announce")).to_have_text("That stream server went away; switching to another.")
        expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
        expect(page.locator("#state")).to_have_text("Live")


def test_format_choice_is_remembered_across_reloads(site: Site, page: Page):
    streams = (stream("http://127.0.0.1:9/hd.webm"), stream("http://127.0.0.1:9/sd.webm", quality="sd"))
    post_heartbeat(site.url, heartbeat("cam-1", *streams, interval=30), token=site.add_encoder("example", "cam-1"))
    page.goto(site.url + "/example")
    expect(page.locator("#chooser")).to_be_visible()

    page.get_by_label("Format").select_option(label="Video off")
    page.get_by_label("Quality").select_option(label="SD")
    expect(page.locator("#playback")).to_have_text("Video is off. Choose a format to watch.")
    page.reload()

    expect(page.get_by_label("Format")).to_have_value("off")
    expect(page.get_by_label("Quality")).to_have_value("sd")
    expect(page.locator("#playback")).to_have_text("Video is off. Choose a format to watch.")
    expect(page.locator("#video")).not_to_have_attribute("src", "http://127.0.0.1:9/none.webm")


def test_chooser_is_reachable_by_keyboard(site: Site, page: Page):
    streams = (stream("http://127.0.0.1:9/hd.webm"), stream("http://127.0.0.1:9/sd.webm", quality="sd"))
    post_heartbeat(site.url, heartbeat("cam-1", *streams, interval=30), token=site.add_encoder("example", "cam-1"))
    page.goto(site.url + "/example")
    expect(page.locator("#chooser")).to_be_visible()
    # The quality choice appears once the room's streams are known.
    expect(page.locator("#quality")).to_be_visible()

    # The video's own controls take a varying number of stops (its state
    # decides which), so walk on until the chooser has been reached.
    focused = set()
    for _ in range(30):
        page.keyboard.press("Tab")
        focused.add(page.evaluate("document.activeElement.id"))
        if {"format", "quality"} <= focused:
            break
    assert {"video", "format", "quality"} <= focused


def test_stream_refused_from_the_venue_network_shows_why(site: Site, page: Page):
    post_heartbeat(site.url, heartbeat(interval=30), token=site.add_encoder("example", "cam-1"))
    body = '{"error": "in_room", "message": "You are in the room: watch the stage, not the stream."}'
    page.route("**/tracker/api/rooms/example/stream?*", lambda route: route.fulfill(status=403, body=body))

    page.goto(site.url + "/example")

    expect(page.locator("#playback")).to_have_text("You are in the room: watch the stage, not the stream.")
    assert page.locator("#video").get_attribute("src") is None


def test_monitor_wall_updates_live(site: Site, page: Page):
    page.goto(site.url + "/monitor")
    tile = page.locator('.tile[data-room="example"]')
    expect(page.locator(".tile h2")).to_have_text(["Example Room", "hall-2"])
    expect(tile.locator(".state")).to_have_text("Offline")

    post_heartbeat(site.url, heartbeat(), token=site.add_encoder("example", "cam-1"))

    expect(tile.locator(".state")).to_have_text("Live", timeout=5000)
    expect(tile).to_have_class("tile live")
    expect(tile.locator(".state")).to_have_text("Offline", timeout=6000)
    expect(page.locator('.tile[data-room="hall-2"] .state')).to_have_text("Offline")


# A count reaches pages within: each process reports (1 s), the worker adds
# them up (1 s), the hub passes changes on (live.FIGURES_SECONDS), plus slack.
COUNT_MS = (1 + 1 + live.FIGURES_SECONDS + 3) * 1000


def test_viewer_count_follows_open_pages(site: Site, browser: Browser, page: Page):
    page.goto(site.url + "/example")
    expect(page.locator("#viewers")).to_have_text("1 watching on this site", timeout=COUNT_MS)

    second = browser.new_context()
    other = second.new_page()
    other.goto(site.url + "/example")
    expect(page.locator("#viewers")).to_have_text("2 watching on this site", timeout=COUNT_MS)
    other.reload()  # same tab reconnecting counts once
    expect(other.locator("#viewers")).to_have_text("2 watching on this site", timeout=COUNT_MS)

    wall = second.new_page()  # the monitor wall counts nobody, shows everyone
    wall.goto(site.url + "/monitor")
    expect(wall.locator('.tile[data-room="example"] .viewers')).to_have_text("2 watching on this site")
    other.close()
    expect(page.locator("#viewers")).to_have_text("1 watching on this site", timeout=COUNT_MS)
    tile_viewers = wall.locator('.tile[data-room="example"] .viewers')
    expect(tile_viewers).to_have_text("1 watching on this site", timeout=COUNT_MS)
    second.close()


def test_room_page_transfers_under_150_kb(site: Site, page: Page):
    post_heartbeat(site.url, heartbeat(interval=30), token=site.add_encoder("example", "cam-1"))
    responses = []
    page.on("response", lambda response: responses.append(response))

    page.goto(site.url + "/example", wait_until="networkidle")

    counted = [r for r in responses if r.request.resource_type in {"document", "stylesheet", "script"}]
    counted = [r for r in counted if "hls" not in r.url]
    kinds = {r.request.resource_type for r in counted}
    total = sum(len(r.body()) for r in counted)
    assert kinds == {"document", "stylesheet", "script"}
    assert len(counted) >= 6  # page, CSS, feed, ui, live, player, room
    assert total < 150 * 1024, f"{total} bytes: {[r.url for r in counted]}"


# A one-pixel PNG for preview images.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def scheduled_room(now: datetime) -> dict:
    def iso(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    talk = {"guid": "1", "title": "Opening", "speakers": ["Ada"], "url": "", "generated": False, "filler": ""}
    return {
        "name": "example",
        "title": "Example Room",
        "live": False,
        "clients": 0,
        "streams": [],
        "viewers": 3,
        "info": {"youtube": "abc_DEF-123", "preview": "https://cdn.example/hall.jpg", "preview-interval": 2},
        "now": {**talk, "start": iso(now - timedelta(minutes=30)), "end": iso(now + timedelta(minutes=12, seconds=30))},
        "next": {**talk, "guid": "2", "title": "Keynote", "start": iso(now + timedelta(hours=1)), "end": iso(now)},
    }


def test_schedule_youtube_and_previews_from_the_room_config(frontend_url: str, monkeypatch, browser: Browser):
    # The frontend in this process (so the tracker's answers can be set) and
    # the live feed played by the browser.
    now = datetime.now(UTC).replace(microsecond=0)
    room = scheduled_room(now)

    async def room_list():
        return [room]

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    context = browser.new_context(timezone_id="Asia/Kolkata", locale="en-GB")
    previews = []

    def preview(route):
        previews.append(route.request.url)
        route.fulfill(body=PIXEL, content_type="image/png")

    context.route("https://cdn.example/**", preview)
    context.route("https://www.youtube-nocookie.com/**", lambda route: route.fulfill(body="<p>video</p>"))
    snapshot = json.dumps({"type": "snapshot", "version": 1, "rooms": [room]})
    page = context.new_page()
    fake_live_feed(page, snapshot)

    page.goto(frontend_url + "/example")

    # In the event's time zone (UTC here), not the browser's, as the page's language (English) writes times.
    starts = (now + timedelta(hours=1)).strftime("%I:%M %p")
    expect(page.locator(".event time[data-kind=ends]")).to_have_text("ends in 12 minutes")
    expect(page.locator(".event time[data-kind=starts]")).to_have_text(f"starts at {starts}")
    expect(page.locator("#viewers")).to_have_text("3 watching on this site")
    youtube = page.locator("#screen iframe")
    expect(youtube).to_have_attribute("src", "https://www.youtube-nocookie.com/embed/abc_DEF-123?autoplay=1&mute=1")
    expect(page.locator("#playback")).to_have_text("Playing on YouTube (privacy-enhanced mode)")

    page.goto(frontend_url + "/monitor")
    image = page.locator('.tile[data-room="example"] .preview img')
    expect(image).to_have_attribute("src", "https://cdn.example/hall.jpg")
    # Sample every frame: the picture must never be blank while it refreshes.
    page.evaluate(
        """() => {
          window.blank = 0;
          const img = document.querySelector('.preview img');
          const look = () => {
            if (!img.complete || img.naturalWidth === 0) window.blank += 1;
            requestAnimationFrame(look);
          };
          requestAnimationFrame(look);
        }"""
    )
    expect(image).to_have_attribute("src", re.compile(r"hall\.jpg\?t=\d+$"), timeout=5000)
    first = image.get_attribute("src")
    expect(image).not_to_have_attribute("src", first, timeout=5000)
    assert page.evaluate("window.blank") == 0
    assert len(previews) >= 3
    context.close()
