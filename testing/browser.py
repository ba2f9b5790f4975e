"""Debian's Chromium for browser tests (never a browser download)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocketRoute

# Chromium's own background traffic is refused on machines without internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed; `make test` installs it when run as root")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


PING = '{"type":"ping"}'  # what the pages' feed sends when it has been quiet (tracker/static/tracker/feed.js)
PONG = '{"type": "pong"}'


def fake_live_feed(
    target: Page | BrowserContext,
    snapshot: str | Callable[[], str] | None,
    sockets: list[WebSocketRoute] | None = None,
) -> None:
    """/ws/live/ played by the test: `snapshot` on each connect (a function is asked anew each time),
    and a pong for every ping, as the server gives one: a page whose ping goes unanswered takes
    the link for lost and reconnects, which would replay a snapshot of an earlier moment.
    `sockets` collects the connections, for a test that sends changes on them."""

    def serve(socket: WebSocketRoute) -> None:
        if sockets is not None:
            sockets.append(socket)
        socket.on_message(lambda message: socket.send(PONG) if message == PING else None)
        text = snapshot() if callable(snapshot) else snapshot
        if text is not None:
            socket.send(text)

    target.route_web_socket(re.compile(r".*/ws/live/$"), serve)
