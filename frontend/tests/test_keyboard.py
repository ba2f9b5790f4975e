"""Pages for everyone (issue 26, item 6): a keyboard-only walk reaches every control of each
viewer page, each with a focus you can see (inside the browser's own video controls, on the
player); the room player's k and m keys. Real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend.tests.test_screens import scripted, still  # noqa: F401 (fixtures)
from testing.browser import fake_live_feed

PAGES = ("/", "/example", "/example/schedule", "/programme", "/monitor", "/graphs")
# Interactive elements a keyboard must reach (hidden ones and those taken out of the order aside).
CONTROLS = "a[href], button, select, input, textarea, summary, [tabindex='0']"


def open_view(browser: Browser, scripted, still: Path) -> Page:  # noqa: F811
    _, _, snapshot = scripted
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB")
    context.route("https://cdn.example/**", lambda route: route.fulfill(path=still, content_type="image/png"))
    fake_live_feed(context, snapshot)
    return context.new_page()


VISIBLE_FOCUS = """() => {
  const ring = (node) =>
    node && getComputedStyle(node).outlineStyle !== "none" && parseFloat(getComputedStyle(node).outlineWidth) >= 2;
  // The focus ring is on the element, or for a tile's link on the tile it covers.
  return ring(document.activeElement) || ring(document.activeElement.closest(".tile"));
}"""

DESCRIBE = """() => {
  const node = document.activeElement;
  const name = node.id ? "#" + node.id : node.tagName.toLowerCase();
  return name + " " + (node.getAttribute("href") || node.textContent.trim().slice(0, 30));
}"""

REACHABLE = f"""() => [...document.querySelectorAll("{CONTROLS}")]
  .filter((node) => node.tabIndex >= 0 && !node.closest("[hidden], template, details:not([open]) > :not(summary)")
                    && !node.disabled && node.getClientRects().length > 0)
  .filter((node) => !node.closest("[aria-hidden=true]"))"""


@pytest.mark.parametrize("path", PAGES)
def test_a_keyboard_walk_reaches_every_control_with_a_visible_focus(browser: Browser, scripted, still, path):  # noqa: F811
    page = open_view(browser, scripted, still)
    page.goto(scripted[0] + path)
    page.wait_for_timeout(500)  # the live snapshot applied, the player started
    page.evaluate(f"window.controls = ({REACHABLE})(); window.reached = new Set()")
    total = page.evaluate("controls.length")
    invisible = []
    for _ in range(total + 12):  # the video's own controls are stops the page cannot count
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break
        page.evaluate("reached.add(document.activeElement)")
        if not page.evaluate(VISIBLE_FOCUS):
            invisible.append(page.evaluate(DESCRIBE))
    missed = page.evaluate("controls.filter((node) => !reached.has(node)).map((node) => node.outerHTML.slice(0, 80))")
    assert not invisible, f"focus not visible on {invisible}"
    assert not missed, f"not reached by Tab: {missed}"
    page.context.close()


def test_k_and_m_play_pause_and_mute_the_room_player(browser: Browser, scripted, still):  # noqa: F811
    page = open_view(browser, scripted, still)
    page.goto(scripted[0] + "/example")
    expect(page.locator("#playback")).to_have_text("Playing WebM HD", timeout=10000)
    expect(page.locator(".keys")).to_contain_text("m sound on and off")
    page.wait_for_function("document.getElementById('video').currentTime > 0.3")

    page.locator("body").press("k")
    page.wait_for_function("document.getElementById('video').paused")
    page.locator("body").press("k")
    page.wait_for_function("!document.getElementById('video').paused")
    muted = page.evaluate("document.getElementById('video').muted")
    page.locator("body").press("m")
    assert page.evaluate("document.getElementById('video').muted") is (not muted)
    page.get_by_label("Format").focus()
    page.keyboard.press("m")  # typing in a control is not a player key
    assert page.evaluate("document.getElementById('video').muted") is (not muted)
    # Nor does it pick a format the room does not offer (the select's own type-ahead picked a hidden MP4).
    expect(page.get_by_label("Format")).to_have_value("auto")
    page.context.close()
