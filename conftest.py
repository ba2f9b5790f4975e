"""Fixtures shared by all tests: a real Redis, the test rooms config, and
(for end-to-end tests) real daphne and worker processes; the processes
themselves are started by testing/processes.py, Chromium found by testing/browser.py."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, Page, sync_playwright

from common.lean import lean_view_running
from testing.browser import CHROMIUM_ARGS, chromium_path
from testing.client import AsyncClient, Client
from testing.processes import (
    NO_REDIS,
    ROOT,
    TEST_CONFIG_DIR,
    TEST_SECRET,
    RedisProcess,
    Site,
    free_port,
    running,
    site_environment,
    use_redis,
)

STATIC_FILES = "django.contrib.staticfiles.storage.StaticFilesStorage"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The tests' Redis, on a free port, started by the first test that needs it."""
    server = RedisProcess(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(name="redis")
def empty_redis(settings, redis_url: str) -> str:
    """The tests' Redis, emptied, as the site's store: a test that reads or writes live state asks for this."""
    use_redis(settings, redis_url)
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    return redis_url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the tests' Redis (emptied by test_site, as for every test using redis_url)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def test_site(request: pytest.FixtureRequest, settings) -> Iterator[None]:
    """Every test starts with the test rooms, and (unless it is a unit test) an empty Redis."""
    from frontend.tracker_api import forget_room_list
    from tracker import config

    forget_room_list()
    use_redis(settings, NO_REDIS)
    if request.node.get_closest_marker("unit") is None:  # see pytest_collection_modifyitems
        request.getfixturevalue("redis")
    settings.ROOMS_CONFIG_DIR = TEST_CONFIG_DIR
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
    # Production's hashed names need collectstatic; tests read the sources.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_FILES}}
    config.reset_cache()
    yield
    config.reset_cache()


# Markers by the fixtures a test uses (with those they use), so `pytest -m unit`
# (`make test-unit`) needs no Redis, database, server or browser.
BROWSER_FIXTURES = {"browser"}
INTEGRATION_FIXTURES = {
    *("redis_url", "db", "transactional_db", "site_database", "live_server"),
    *("own_redis", "sentinel", "nginx"),  # servers some test modules start for themselves
}


# The fault suite measures how long recoveries take: `make test` runs it, with
# every test marked `timed`, after the parallel run, a few at a time (they
# mostly wait) with nothing else on the machine.
TIMED_FOLDERS = (ROOT / "tracker" / "tests" / "faults",)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m timed` alone, a test file that marks nothing timed is not even imported:
    each of that run's workers would otherwise spend ~4 s of CPU collecting the whole suite."""
    if config.getoption("markexpr") != "timed" or not collection_path.name.startswith("test_"):
        return None
    if collection_path.suffix != ".py" or any(collection_path.is_relative_to(f) for f in TIMED_FOLDERS):
        return None
    return "mark.timed" not in collection_path.read_text(errors="replace") or None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.path.is_relative_to(folder) for folder in TIMED_FOLDERS):
            item.add_marker(pytest.mark.timed)
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        elif used & INTEGRATION_FIXTURES or item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


class LeanDatabaseGuard:
    """A database execute wrapper that refuses SQL while a lean view runs."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        view = lean_view_running()
        if view is not None:
            self.refused.append(f"{view} ran {sql[:120]}")
            raise AssertionError(f"lean view {view} touched the database (common.lean: mark it database_on_purpose)")
        return execute(sql, params, many, context)

    def install(self, connection, **_) -> None:
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)


@pytest.fixture(scope="session")
def lean_database_guard() -> Iterator[LeanDatabaseGuard]:
    from django.db import connections
    from django.db.backends.signals import connection_created

    guard = LeanDatabaseGuard()
    # Each thread has its own connections: guard every one as it opens, and those open now.
    connection_created.connect(guard.install)
    for connection in connections.all():
        guard.install(connection)
    yield guard
    connection_created.disconnect(guard.install)


@pytest.fixture(autouse=True)
def lean_views_use_no_database(lean_database_guard: LeanDatabaseGuard) -> Iterator[None]:
    """Fails the test when a lean view ran SQL, even if the view turned the error into an answer."""
    lean_database_guard.refused.clear()
    yield
    assert not lean_database_guard.refused, "\n".join(lean_database_guard.refused)


# Django's test clients, answered by the site's real ASGI application
# (testing/client.py); with the tests' Redis, which the site's views read.
@pytest.fixture
def client(redis: str) -> Client:
    return Client()


@pytest.fixture
def async_client(redis: str) -> AsyncClient:
    return AsyncClient()


@pytest.fixture
def admin_client(redis: str, admin_user) -> Client:
    logged_in = Client()
    logged_in.force_login(admin_user)
    return logged_in


@pytest.fixture
def use_config(settings, tmp_path: Path):
    """Run the test with the test rooms plus settings of its own:
    `use_config({"grace": 3}, example={"title": "Main"})` (global settings, then rooms)."""
    from tracker.config import reset_cache

    def use(global_settings: dict | None = None, **rooms: dict) -> None:
        directory = tmp_path / "config"
        directory.mkdir(exist_ok=True)
        (directory / "config.json").write_text((TEST_CONFIG_DIR / "config.json").read_text())
        private = {"config": {"secret": TEST_SECRET, **(global_settings or {})}, **rooms}
        (directory / "config.private.json").write_text(json.dumps(private))
        settings.ROOMS_CONFIG_DIR = directory
        reset_cache()

    return use


@pytest.fixture
def encoder_token(transactional_db, redis: str) -> str:
    """A token for encoder "enc-1" in room "example".

    Transactional: an unknown token is looked up in the database from another
    thread, which must see committed rows.
    """
    from tracker.encoders.identities import add_encoder

    return add_encoder(room="example", name="enc-1")[1]


@pytest.fixture(scope="session")
def site_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file for the site's processes (not the test database)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'db.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "ROOMS_CONFIG_DIR": str(TEST_CONFIG_DIR)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return url


@pytest.fixture
def site_env(redis_url: str, site_database: str) -> dict[str, str]:
    with sqlite3.connect(site_database.removeprefix("sqlite:///")) as db:
        for table in ("tracker_encoder", "django_session", "auth_user"):
            db.execute(f"DELETE FROM {table}")  # each test starts with no encoders or users
    return site_environment(redis_url, site_database)


@pytest.fixture
def site(site_env: dict[str, str], tmp_path: Path) -> Iterator[Site]:
    """The whole site as in production: daphne plus a worker, on a free port."""
    with running(site_env, tmp_path) as running_site:
        yield running_site


# Module scope: Playwright's sync API runs an event loop in this thread
# while it is open, which async tests of other modules must not meet.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
