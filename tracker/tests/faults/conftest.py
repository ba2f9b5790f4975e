"""The fault-injection suite's fixtures: its own Redis to stop and kill, a real
webhook receiver, and the site's environment on both (its clients: clients.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.processes import TEST_CONFIG_DIR, TEST_SECRET, RedisProcess, free_port
from tracker.ops.tests.test_alerts import Receiver


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis of the test's own, persisted like production's, that it may stop, freeze or kill."""
    server = RedisProcess(free_port(), tmp_path / "redis")
    server.directory.mkdir()
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.resume()  # in case the test stopped while it was frozen
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def fault_env(site_env: dict[str, str], own_redis: RedisProcess, receiver: Receiver, tmp_path: Path) -> dict[str, str]:
    """The site's environment on the test's own Redis, alerting the test's receiver."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text((TEST_CONFIG_DIR / "config.json").read_text())
    private = {"config": {"secret": TEST_SECRET, "webhooks": [receiver.url], "alert-suppress-minutes": 10}}
    (config / "config.private.json").write_text(json.dumps(private))
    return {**site_env, "REDIS_URL": own_redis.url, "ROOMS_CONFIG_DIR": str(config)}
