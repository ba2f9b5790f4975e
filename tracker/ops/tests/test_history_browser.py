"""The history pages in a real Chromium, from real transitions: heartbeats through the real site
(daphne and worker), an encoder going down and back, an operator acknowledging it on the dashboard.

With SCREENSHOTS=<folder> the pages are also saved there at phone and laptop
sizes, light and dark (that is how docs/screenshots/history-*.png are made)."""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from testing.processes import Site
from tracker.ops.tests.test_control_room_browser import add_encoders, beat, log_in

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def cam_goes_down_and_back(site: Site, page: Page) -> None:
    """cam beats every second, stops (late, then down), is acknowledged by alice on the dashboard, and returns."""
    tokens = add_encoders(site, ("example", "cam"), ("example", "mic"))
    log_in(site, page, "alice")
    beat(site, tokens[("example", "mic")], "example", "mic", interval=60, streams=2)
    for _ in range(3):
        beat(site, tokens[("example", "cam")], "example", "cam", interval=1)
        time.sleep(0.5)
    row = page.locator('tr[data-encoder="cam"]')
    expect(row.locator(".badge")).to_have_text("down", timeout=8000)  # interval 1 s, grace 1 s, the sweeper
    row.locator(".ack-button").click()
    expect(row.locator(".ack")).to_contain_text("alice")
    time.sleep(1.5)  # down for a while
    beat(site, tokens[("example", "cam")], "example", "cam", interval=60)
    expect(row.locator(".badge")).to_have_text("up", timeout=5000)


def test_history_pages_show_what_happened_from_real_transitions(site: Site, browser: Browser):
    context = browser.new_context(viewport=SIZES["laptop"], locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    cam_goes_down_and_back(site, page)

    page.locator('tbody[data-room="example"] .history-link').click()
    expect(page.locator("h1")).to_have_text("Example Room")
    cam_lane = page.locator('.timeline[aria-label="cam"] .piece')
    states = [name.split()[-1] for name in cam_lane.evaluate_all("pieces => pieces.map(p => p.className)")]
    assert states == ["up", "late", "down", "up"]
    page.locator('.timeline[aria-label="cam"] .piece.down').hover()
    readout = page.locator("#readout-cam")
    expect(readout).to_contain_text("down ")
    assert readout.text_content().endswith(" s)")  # how long, e.g. "(2 s)"
    events = page.locator("table.events tbody tr")
    expect(events.filter(has_text="late → down: no heartbeat")).to_have_count(1)
    expect(events.filter(has_text="acknowledged (down)").locator("td").last).to_have_text("alice")

    page.locator(".chart svg").hover()
    expect(page.locator("#chart-readout")).to_contain_text("clients")

    export = page.request.get(site.url + "/tracker/history/example/?export=transitions")
    rows = list(csv.DictReader(io.StringIO(export.text())))
    assert [
        (r["encoder"], r["old"], r["new"]) for r in rows if r["encoder"] == "cam" and r["kind"] == "transition"
    ] == [
        ("cam", "", "up"),
        ("cam", "up", "late"),
        ("cam", "late", "down"),
        ("cam", "down", "up"),
    ]
    assert [r["by"] for r in rows if r["kind"] == "ack"] == ["alice"]

    page.locator("table.events a", has_text="cam").first.click()
    expect(page.locator("h1")).to_contain_text("cam")
    expect(page.locator("tr.total td").first).not_to_have_text("n/a")

    # Maintenance planned on the operators' pages shows on the dashboard.
    page.locator("header a", has_text="Alerts & maintenance").click()
    plan = page.locator("form.plan").first
    plan.locator("select[name=room]").select_option("hall-2")
    now = datetime.now(UTC)  # the test rooms' schedule-timezone is UTC
    plan.locator("input[name=from]").fill((now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    plan.locator("input[name=to]").fill((now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    plan.locator("input[name=reason]").fill("rehearsal")
    plan.locator("button").click()
    expect(page.locator("table.events tbody tr")).to_contain_text(["hall-2whole room"])
    page.goto(site.url + "/tracker/dashboard/")
    expect(page.locator("#maintenance li.now")).to_have_text(
        f"hall-2: now, until {(now + timedelta(hours=2)).strftime('%a %d %b %H:%M')} (rehearsal)"
    )

    storage = context.storage_state()
    context.close()
    for size, viewport in SIZES.items():
        for scheme in ("light", "dark"):
            view = browser.new_context(
                viewport=viewport, color_scheme=scheme, storage_state=storage, locale="en-GB", timezone_id="UTC"
            )
            screen = view.new_page()
            for name, path in (("room", "/tracker/history/example/"), ("encoder", "/tracker/history/example/cam/")):
                screen.goto(site.url + path)
                assert screen.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
                shot(screen, f"history-{name}-{size}-{scheme}")
            screen.goto(site.url + "/tracker/maintenance/")
            shot(screen, f"maintenance-{size}-{scheme}")
            if size == "laptop" and scheme == "light":
                screen.goto(site.url + "/tracker/dashboard/")
                expect(screen.locator("#maintenance")).to_be_visible()
                shot(screen, "dashboard-maintenance")
            view.close()
