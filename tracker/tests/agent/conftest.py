"""Fixtures for the agent tests: real local servers, and the agent's log lines."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from .servers import TOKEN, RealTracker, StatusServer, WebsocketTracker


@pytest.fixture
def status_server() -> Iterator[StatusServer]:
    server = StatusServer()
    yield server
    server.close()


@pytest.fixture
def ws_tracker() -> Iterator[WebsocketTracker]:
    tracker = WebsocketTracker(token=TOKEN)
    tracker.start()
    yield tracker
    tracker.stop()


@pytest.fixture
def agent_log(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """Call it to get the agent's log messages so far."""
    caplog.set_level(logging.INFO, logger="tracker.agent")
    return lambda: [record.getMessage() for record in caplog.records if record.name == "tracker.agent"]


@pytest.fixture
def real_tracker(site) -> RealTracker:
    """The root conftest's running site, with per-encoder tokens (and the legacy secret)."""
    from testing.processes import TEST_SECRET

    return RealTracker(url=site.url, token_for=site.add_encoder, legacy_secret=TEST_SECRET)
