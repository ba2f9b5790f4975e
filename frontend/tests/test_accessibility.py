"""Accessible by default (issue 15, item 9): axe-core (from npm, pinned in
the Makefile, never served) on every public page in light and dark themes,
failing on serious or critical violations; a skip link; 200 % zoom without
horizontal scrolling. Real Chromium."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from frontend import tracker_api
from frontend.tests.test_screens import no_horizontal_scroll, scripted, still  # noqa: F401 (fixtures)
from testing.browser import fake_live_feed

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    *("/", "/example", "/example/embed", "/example/schedule", "/programme"),
    *("/monitor", "/graphs", "/hall-2", "/nowhere"),
)


def axe_script() -> Path:
    """The axe-core the Makefile installed (`make test` does; `make var/axe-core-<version>/axe.min.js` alone)."""
    version = re.search(r"^AXE_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    path = ROOT / "var" / f"axe-core-{version}" / "axe.min.js"
    if not path.exists():
        pytest.fail(f"axe-core {version} is not installed: run make test (or make {path.relative_to(ROOT)})")
    return path


def open_view(browser: Browser, scripted, still: Path, **options) -> Page:  # noqa: F811
    _, _, snapshot = scripted
    context = browser.new_context(**options)
    context.route("https://cdn.example/**", lambda route: route.fulfill(path=still, content_type="image/png"))
    fake_live_feed(context, snapshot)
    return context.new_page()


def serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(axe_script()))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations_on_any_public_page(browser: Browser, scripted, still, scheme):  # noqa: F811
    page = open_view(browser, scripted, still, color_scheme=scheme, viewport={"width": 1366, "height": 768})
    url = scripted[0]
    found = {}
    for path in PAGES:
        page.goto(url + path)
        page.wait_for_timeout(300)  # the live snapshot applied
        found[path] = serious_violations(page)
    assert not any(found.values()), found
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations_on_the_in_room_page(
    browser: Browser,
    scripted,  # noqa: F811
    still,  # noqa: F811
    scheme,
    monkeypatch,
):
    async def at_the_venue(address: str) -> bool:
        return True

    monkeypatch.setattr(tracker_api, "is_venue", at_the_venue)
    page = open_view(browser, scripted, still, color_scheme=scheme, viewport={"width": 390, "height": 844})
    page.goto(scripted[0] + "/example")
    expect(page.locator(".slate.inroom")).to_be_visible()
    page.wait_for_timeout(300)  # the live snapshot applied
    assert not serious_violations(page)
    page.context.close()


def test_every_page_reflows_at_200_percent_zoom(browser: Browser, scripted, still):  # noqa: F811
    # 1366 CSS pixels at 200 % zoom leave 683 to lay out in.
    page = open_view(browser, scripted, still, viewport={"width": 683, "height": 384}, device_scale_factor=2)
    for path in PAGES:
        page.goto(scripted[0] + path)
        page.wait_for_timeout(300)  # the live snapshot applied
        no_horizontal_scroll(page)
    page.context.close()


def test_the_skip_link_is_first_and_moves_to_the_content(browser: Browser, scripted, still):  # noqa: F811
    page = open_view(browser, scripted, still)
    page.goto(scripted[0] + "/example")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    expect(page.get_by_role("region", name="Player").locator("video")).to_have_accessible_name(
        "Live video: Example Room"
    )
    page.context.close()
