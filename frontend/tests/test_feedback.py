"""Feedback (issue 15, item 6): "report a problem" on the player reaches the
operators' dashboard live, with what the player tried. Real Chromium, real
daphne, worker and Redis."""

from playwright.sync_api import Browser, expect

from frontend.tests.test_browser import heartbeat, stream
from testing.factories import post_heartbeat
from testing.processes import Site
from tracker.ops.tests.test_dashboard_browser import log_in

BROKEN = "http://127.0.0.1:9/live.webm"


def test_a_viewers_report_reaches_a_logged_in_dashboard_with_the_playback_state(site: Site, browser: Browser):
    post_heartbeat(
        site.url, heartbeat("cam-1", stream(BROKEN), interval=30), token=site.add_encoder("example", "cam-1")
    )
    operator = browser.new_page()
    viewer = browser.new_page()
    try:
        log_in(site, operator)
        reports = operator.locator('tbody[data-room="example"] .reports-box')
        expect(reports).to_be_hidden(timeout=5000)

        viewer.goto(site.url + "/example")
        expect(viewer.locator("#trouble")).to_be_visible(timeout=10000)  # the stream will not play
        viewer.get_by_text("Report a problem").click()
        viewer.get_by_label("What went wrong? (optional)").fill("Black picture since the break")
        viewer.get_by_role("button", name="Send to the operators").click()
        expect(viewer.locator("#report-status")).to_have_text("Sent to the operators. Thank you!")
        expect(viewer.get_by_role("button", name="Send to the operators")).to_be_disabled()  # once per 10 s

        expect(reports.locator("summary")).to_have_text("Viewer reports (1)", timeout=5000)
        reports.locator("summary").click()
        entry = reports.locator("ol.reports li").first
        expect(entry).to_contain_text("Black picture since the break")
        expect(entry).to_contain_text("WebM HD")
        expect(entry).to_contain_text(BROKEN)
        expect(entry).to_contain_text("HeadlessChrome")
    finally:
        viewer.close()
        operator.close()
