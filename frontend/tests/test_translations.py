"""Translations and subtitles (issue 15, item 4): an HLS stream made with
ffmpeg with two audio renditions, where choosing the other language switches
hls.js's audio track; the room's WebVTT subtitles with a toggle; both choices
remembered per browser. Real Chromium, real media over HTTP."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend import tracker_api
from testing.browser import fake_live_feed
from testing.server import QuietFileHandler

# 10 s of test picture with two sounds: English (440 Hz, the default) and German (880 Hz).
FFMPEG_TWO_LANGUAGES = [
    *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10"),
    *("-f", "lavfi", "-i", "sine=frequency=440", "-f", "lavfi", "-i", "sine=frequency=880", "-t", "10"),
    *("-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
    *("-g", "10", "-b:v", "60k", "-c:a", "aac", "-b:a", "32k", "-ac", "1"),
    *("-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_filename", "seg_%v_%03d.ts"),
    *("-master_pl_name", "master.m3u8"),
    "-var_stream_map",
    "v:0,agroup:aud,name:video a:0,agroup:aud,language:en,name:en,default:yes a:1,agroup:aud,language:de,name:de",
    "stream_%v.m3u8",
]
SUBTITLES = "WEBVTT\n\n00:00.000 --> 01:00.000\nHello from the stage\n"


class CorsHandler(QuietFileHandler):
    """hls.js and the subtitles are fetched from another origin, as from a CDN."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()


@pytest.fixture(scope="module")
def hls_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not installed (apt-get install ffmpeg)")
    folder = tmp_path_factory.mktemp("hls")
    subprocess.run(FFMPEG_TWO_LANGUAGES, cwd=folder, check=True, timeout=180)
    (folder / "subtitles.vtt").write_text(SUBTITLES)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(CorsHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def translated(frontend_url: str, monkeypatch, hls_url: str) -> tuple[str, str]:
    """A live room whose one HLS stream speaks English and German, with subtitles."""
    room = {
        "name": "example",
        "title": "Example Room",
        "live": True,
        "streams": [{"format": "hls", "quality": "hd", "url": hls_url + "/master.m3u8"}],
        "viewers": 3,
        "info": {"subtitles": hls_url + "/subtitles.vtt"},
        "now": None,
        "next": None,
    }

    async def room_list():
        return [room]

    async def get(path: str):
        return tracker_api.Answer(200, "application/json", json.dumps({"room": "example", "day": []}).encode())

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    monkeypatch.setattr(tracker_api, "get", get)
    snapshot = {"type": "snapshot", "version": 1, "time": datetime.now(UTC).timestamp(), "rooms": [room]}
    return frontend_url, json.dumps(snapshot)


def open_room(page: Page, url: str, snapshot: str, playing: str = "Playing HLS HD") -> list[str]:
    """The room page, playing; returns the list the media requests are added to."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url.rsplit("/", 1)[-1]))
    fake_live_feed(page, snapshot)
    page.goto(url + "/example")
    expect(page.locator("#playback")).to_have_text(playing, timeout=15000)
    return requested


def wait_for(page: Page, requested: list[str], name: str) -> None:
    """Until the page has asked for `name` (at most 10 s: the machine may be busy)."""
    for _ in range(100):
        if name in requested:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{name} was never requested; asked for {requested}")


def test_choosing_the_other_language_switches_the_hls_audio_track_and_is_remembered(
    browser: Browser, translated: tuple[str, str]
):
    url, snapshot = translated
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    requested = open_room(page, url, snapshot)
    language = page.get_by_label("Language")
    expect(language).to_be_visible()
    expect(language.locator("option")).to_have_text(["English", "German"])
    expect(language).to_have_value("en")  # the stream's default rendition
    assert "stream_en.m3u8" in requested and "stream_de.m3u8" not in requested

    loaded = requested.count("master.m3u8")
    language.select_option("de")

    wait_for(page, requested, "stream_de.m3u8")
    expect(page.locator("#playback")).to_have_text("Playing HLS HD")  # the picture kept going: no restart
    assert requested.count("master.m3u8") == loaded  # the same stream, not started again

    # Remembered per browser: the next visit starts in German.
    page.close()
    page = context.new_page()
    requested = open_room(page, url, snapshot)
    expect(page.get_by_label("Language")).to_have_value("de")
    wait_for(page, requested, "stream_de.m3u8")
    context.close()


def test_subtitles_toggle_and_are_remembered(browser: Browser, translated: tuple[str, str]):
    url, snapshot = translated
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    open_room(page, url, snapshot)
    toggle = page.get_by_role("button", name="Subtitles")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    modes = "() => [...document.getElementById('video').textTracks].map((track) => track.mode)"
    assert "showing" not in page.evaluate(modes)

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(f"({modes})().includes('showing')")
    page.reload()
    expect(page.get_by_role("button", name="Subtitles")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(f"({modes})().includes('showing')")

    page.get_by_role("button", name="Subtitles").click()
    expect(page.get_by_role("button", name="Subtitles")).to_have_attribute("aria-pressed", "false")
    page.wait_for_function(f"!({modes})().includes('showing')")
    context.close()


def test_a_translation_with_streams_of_its_own_is_a_language_choice(
    browser: Browser, frontend_url: str, monkeypatch, media_url: str
):
    room = {
        "name": "example",
        "title": "Example Room",
        "live": True,
        "streams": [
            {"format": "webm", "quality": "hd", "url": media_url + "/a.webm"},
            {"format": "webm", "quality": "hd", "url": media_url + "/b.webm", "language": "de"},
        ],
        "viewers": 3,
        "info": {},
        "now": None,
        "next": None,
    }

    async def room_list():
        return [room]

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    snapshot = json.dumps({"type": "snapshot", "version": 1, "time": datetime.now(UTC).timestamp(), "rooms": [room]})
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    open_room(page, frontend_url, snapshot, playing="Playing WebM HD")
    source = "() => document.getElementById('video').currentSrc.split('/').pop()"
    assert page.evaluate(source) == "a.webm"
    language = page.get_by_label("Language")
    expect(language.locator("option")).to_have_text(["Original", "German"])

    language.select_option("de")

    page.wait_for_function(f"({source})() === 'b.webm'")
    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
    page.reload()
    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
    assert page.evaluate(source) == "b.webm"  # remembered
    context.close()
