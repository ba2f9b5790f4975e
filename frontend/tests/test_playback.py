"""Honest playback (issue 15, item 3): a stream that will not play is said
so on the player itself, other endpoints and formats are tried, and the
viewer is offered audio and the direct link. Real Chromium, real daphne."""

import re

from playwright.sync_api import Page, expect

from frontend.tests.test_browser import heartbeat, stream
from testing.factories import post_heartbeat
from testing.processes import Site

BROKEN = "http://127.0.0.1:9/live.webm"


def test_a_failing_stream_is_said_on_the_player_and_falls_back_to_audio(site: Site, page: Page, media_url: str):
    streams = (stream(BROKEN), {"format": "audio", "url": media_url + "/audio.webm", "clients": 0, "bitrate": 1})
    post_heartbeat(site.url, heartbeat("cam-1", *streams, interval=30), token=site.add_encoder("example", "cam-1"))

    page.goto(site.url + "/example")

    expect(page.locator("#announce")).to_have_text("WebM HD would not play; trying Audio.", timeout=10000)
    expect(page.locator("#playback")).to_have_text("Playing Audio", timeout=10000)
    expect(page.locator("#trouble")).to_be_hidden()
    expect(page.locator("#player")).to_have_class(re.compile(r"\baudio-only\b"))
    page.wait_for_function("document.getElementById('video').currentTime > 0.5")
    # With sound when the browser allows it; if not, muted with a visible way out.
    muted = page.evaluate("document.getElementById('video').muted")
    expect(page.locator("#unmute")).to_be_visible() if muted else expect(page.locator("#unmute")).to_be_hidden()


def test_when_nothing_plays_the_player_says_so_offers_a_way_out_and_backs_off(site: Site, page: Page):
    post_heartbeat(
        site.url, heartbeat("cam-1", stream(BROKEN), interval=30), token=site.add_encoder("example", "cam-1")
    )

    # Every words the live region is given, in order.
    page.add_init_script(
        """addEventListener("DOMContentLoaded", () => {
          window.said = [];
          new MutationObserver(() => said.push(document.getElementById("announce").textContent))
            .observe(document.getElementById("announce"), { childList: true, characterData: true, subtree: true });
        });"""
    )
    page.goto(site.url + "/example")

    trouble = page.locator("#trouble")
    expect(trouble).to_be_visible(timeout=10000)
    expect(page.locator("#trouble-text")).to_have_text(
        re.compile(r"^This stream will not play right now\. Trying again in [45] s\.$")
    )
    expect(page.get_by_role("button", name="Try again now")).to_be_visible()
    expect(page.locator("#trouble-direct")).to_have_attribute("href", BROKEN)
    expect(page.locator("#trouble-direct")).to_be_visible()
    expect(page.locator("#try-audio")).to_be_hidden()  # this room has no audio stream
    # The overlay covers the picture: no black box under a "Live" badge.
    box, screen = trouble.bounding_box(), page.locator("#video").bounding_box()
    assert box["width"] >= screen["width"] - 1 and box["height"] >= screen["height"] / 2
    # The next round waits longer.
    expect(page.locator("#trouble-text")).to_have_text(re.compile(r"Trying again in (10|9) s\.$"), timeout=10000)
    # Two rounds failed the same way: said once.
    assert page.evaluate("said") == ["None of this room's streams would play. Trying again shortly."]
    page.get_by_role("button", name="Try again now").click()
    expect(page.locator("#trouble-text")).to_have_text(re.compile(r"Trying again in (20|19) s\.$"), timeout=10000)


def test_another_endpoint_with_the_same_stream_is_tried_first(site: Site, page: Page, media_url: str):
    # The tracker hands out the emptier (broken) endpoint first.
    post_heartbeat(
        site.url, heartbeat("cam-1", stream(BROKEN), interval=30), token=site.add_encoder("example", "cam-1")
    )
    good = stream(media_url + "/a.webm", clients=50)
    post_heartbeat(site.url, heartbeat("cam-2", good, interval=30), token=site.add_encoder("example", "cam-2"))

    page.goto(site.url + "/example")

    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=15000)
    expect(page.locator("#announce")).to_have_text("WebM HD would not play; trying another server.")
    expect(page.locator("#video")).to_have_attribute("src", media_url + "/a.webm")


def test_video_autoplays_muted_with_a_visible_unmute(site: Site, page: Page, media_url: str):
    beat = heartbeat("cam-1", stream(media_url + "/a.webm"), interval=30)
    post_heartbeat(site.url, beat, token=site.add_encoder("example", "cam-1"))

    page.goto(site.url + "/example")

    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
    assert page.evaluate("document.getElementById('video').muted") is True
    unmute = page.get_by_role("button", name="Unmute")
    expect(unmute).to_be_visible()
    unmute.click()
    expect(unmute).to_be_hidden()
    assert page.evaluate("document.getElementById('video').muted") is False


def test_the_sound_a_viewer_turned_on_stays_on_when_the_stream_moves_mid_talk(site: Site, page: Page, media_url: str):
    token = site.add_encoder("example", "cam-1")
    post_heartbeat(site.url, heartbeat("cam-1", stream(media_url + "/a.webm"), interval=30), token=token)
    page.goto(site.url + "/example")
    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
    page.get_by_role("button", name="Unmute").click()

    # The encoder moves to another server (a failover mid-talk): the player starts again elsewhere.
    post_heartbeat(site.url, heartbeat("cam-1", stream(media_url + "/b.webm"), interval=30), token=token)

    expect(page.locator("#video")).to_have_attribute("src", media_url + "/b.webm", timeout=10000)
    page.wait_for_function("document.getElementById('video').currentTime > 0.3")
    assert page.evaluate("document.getElementById('video').muted") is False
    expect(page.get_by_role("button", name="Unmute")).to_be_hidden()

    # Muted again by the viewer, the next start stays muted.
    page.locator("body").press("m")
    post_heartbeat(site.url, heartbeat("cam-1", stream(media_url + "/a.webm"), interval=30), token=token)
    expect(page.locator("#video")).to_have_attribute("src", media_url + "/a.webm", timeout=10000)
    page.wait_for_function("document.getElementById('video').currentTime > 0.3")
    assert page.evaluate("document.getElementById('video').muted") is True
