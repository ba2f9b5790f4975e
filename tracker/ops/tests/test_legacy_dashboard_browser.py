"""What operators see, in a real Chromium, of legacy encoders and of a stream gone missing at its source."""

import urllib.request

from playwright.sync_api import Page, expect

from testing.processes import TEST_SECRET, Site
from tracker.agent.loop import Agent
from tracker.agent.sources import build_sources
from tracker.agent.transports import build_transport
from tracker.ops.tests.test_dashboard_browser import log_in
from tracker.tests.agent.servers import StatusServer, recording
from tracker.tests.legacy.original_client import original_data, original_form


def register(site: Site, components: list) -> str:
    body = original_form(original_data(components), secret=TEST_SECRET, group="example").encode()
    with urllib.request.urlopen(site.url + "/tracker/endpoint/register", body, timeout=5) as answer:
        return answer.read().decode().strip()


def test_dashboard_shows_legacy_counted_only_streams_and_totals(site: Site, page: Page):
    log_in(site, page)

    assert register(site, [("http-webm-high", 2, 1e6, 5e5), ("http-flv-high", 7, 3.5e6, 5e5)]) == "OK"

    row = page.locator('tbody[data-room=example] tr[data-encoder="legacy-127.0.0.1"]')
    expect(row.locator(".badge")).to_have_text("up", timeout=5000)
    streams = row.locator("td.streams-cell")
    expect(streams).to_contain_text("webm high · 2 clients · encoding 500 kbit/s")  # the offered WebM
    expect(streams).to_contain_text("flv_high: 7 clients, not offered (FLV: no current browser")
    expect(streams).to_contain_text("total 9 clients · out 4.5 Mbit/s")  # FLV's clients count too


def test_dashboard_shows_the_missing_mount_as_degraded_after_one_heartbeat(site: Site, page: Page):
    log_in(site, page)
    icecast = StatusServer()
    icecast.routes["/status-json.xsl"] = recording("icecast-one-source.json")
    source = {"type": "icecast", "url": icecast.url + "/status-json.xsl", "expect": ["/main.mp3"]}
    token = site.add_encoder("example", "ice-1")
    agent = Agent(
        room="example",
        encoder="ice-1",
        interval=30,
        sources=build_sources([source], timeout=2),
        transport=build_transport("http", site.url, token, timeout=5),
    )
    row = page.locator('tbody[data-room=example] tr[data-encoder="ice-1"]')
    try:
        agent.beat()
        expect(row.locator(".badge")).to_have_text("up", timeout=5000)

        icecast.routes["/status-json.xsl"] = recording("icecast-no-source.json")  # the source client stopped
        agent.beat()

        expect(row.locator(".badge")).to_have_text("degraded", timeout=5000)
        expect(row.locator(".state")).to_contain_text("icecast: expected mount /main.mp3 has no source")
    finally:
        agent.close()
        icecast.close()
