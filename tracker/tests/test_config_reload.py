"""Rooms change without a restart: reload in-process, by order over Redis, refused when bad."""

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import CommandError, call_command

from testing.processes import ROOT, TEST_CONFIG_DIR, TEST_SECRET, running, wait_for
from tracker.config import get_config
from tracker.encoders import store
from tracker.live import config_reload as reload
from tracker.routing import websocket_application
from tracker.tests.faults.test_schedule_changes import write_programme

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def edit_private(change) -> None:
    path = settings.ROOMS_CONFIG_DIR / "config.private.json"
    private = json.loads(path.read_text())
    change(private)
    path.write_text(json.dumps(private))


def test_reload_applies_new_changed_and_removed_rooms(use_config, caplog):
    use_config(example={"title": "Before"})
    get_config()

    def change(private):
        private["example"] = {"title": "After"}
        private["annex"] = {"title": "Annex"}

    edit_private(change)
    with caplog.at_level(logging.INFO, logger="tracker.live.config_reload"):
        reloaded = reload.reload_now(why="test")

    assert reloaded
    assert get_config().rooms["example"].title == "After"
    assert get_config().rooms["annex"].title == "Annex"
    assert caplog.records[-1].getMessage() == "config reloaded (test): added annex; changed example"


def test_reload_refuses_a_bad_edit_and_keeps_the_running_config(use_config, caplog):
    use_config(example={"title": "Running"})
    get_config()

    edit_private(lambda private: private.update(annex={"colour": "red"}))
    with caplog.at_level(logging.ERROR, logger="tracker.live.config_reload"):
        reloaded = reload.reload_now(why="SIGHUP")

    assert not reloaded
    assert get_config().rooms["example"].title == "Running"
    assert "annex" not in get_config().rooms
    assert caplog.records[-1].getMessage() == (
        "config not reloaded (SIGHUP), still running the previous one: "
        "config.private.json: room 'annex': key 'colour': is not in 'default'"
    )


def test_reload_config_command_refuses_a_bad_edit_with_the_one_line_error(use_config):
    use_config()
    edit_private(lambda private: private.update({"bad room!": {}}))

    with pytest.raises(CommandError) as refused:
        call_command("reload_config")

    assert (
        str(refused.value) == "config.private.json: room 'bad room!': room names use letters, digits, '_' and '-' only"
    )


@pytest.mark.usefixtures("redis")
async def test_reload_order_gives_viewers_a_snapshot_with_the_new_room(use_config):
    use_config()
    viewer = WebsocketCommunicator(websocket_application, "/ws/live/", headers=HEADERS)
    assert (await viewer.connect())[0]
    before = json.loads(await viewer.receive_from(timeout=3))

    follower = asyncio.create_task(reload.follow_orders("web"))
    await wait_until(lambda: store.get_redis().hexists(store.key("processes"), reload.process_name("web")))
    edit_private(lambda private: private.update(annex={"title": "Annex"}))
    report = await reload.order_reload(store.get_redis())
    after = json.loads(await viewer.receive_from(timeout=3))
    follower.cancel()

    assert report.lines() == [f"applied: {reload.process_name('web')} (added annex)"]
    assert "annex" not in [room["name"] for room in before["rooms"]]
    assert after["type"] == "snapshot"
    assert "annex" in [room["name"] for room in after["rooms"]]
    await viewer.disconnect()


async def wait_until(check, *, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.02)


def own_config(site_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The site's environment with a config folder of the test's own, to edit."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text((TEST_CONFIG_DIR / "config.json").read_text())
    (config / "config.private.json").write_text(json.dumps({"config": {"secret": TEST_SECRET}}))
    return {**site_env, "ROOMS_CONFIG_DIR": str(config)}


def add_annex(env: dict[str, str], tmp_path: Path) -> None:
    """Room "annex", whose programme (a local file) has a talk on now."""
    start = datetime.now(UTC).replace(microsecond=0)
    write_programme(
        tmp_path / "annex.json", ("Annex opening", start - timedelta(minutes=5), start + timedelta(hours=1))
    )
    path = Path(env["ROOMS_CONFIG_DIR"]) / "config.private.json"
    private = json.loads(path.read_text())
    private["annex"] = {"title": "Annex", "schedule": str(tmp_path / "annex.json"), "schedule-key": "Saal 1"}
    path.write_text(json.dumps(private))


def now_in_annex(base_url: str) -> str | None:
    """The talk on now in room "annex" as this process's API says; None while the room is unknown there."""
    try:
        with urllib.request.urlopen(base_url + "/tracker/api/rooms/annex", timeout=2) as response:
            room = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
        return None
    return (room["now"] or {}).get("title", "")


def followers(redis_client) -> list[str]:
    return sorted(redis_client.hkeys("streaming:processes"))


def reload_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "manage.py", "reload_config"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_a_reload_reaches_every_process_of_a_fresh_site_and_the_new_room_gets_its_programme(
    site_env, tmp_path, redis_client
):
    env = own_config(site_env, tmp_path)
    with running(env, tmp_path) as a, running(env, tmp_path, worker=False) as b:
        # No socket connected anywhere: the processes follow orders from start-up.
        wait_for(lambda: len(followers(redis_client)) == 3, timeout=20, what="three processes following orders")
        add_annex(env, tmp_path)
        result = reload_config(env)
        done = time.monotonic()
        wait_for(
            lambda: now_in_annex(a.url) == now_in_annex(b.url) == "Annex opening",
            timeout=2,
            what="the new room and its programme on both web processes",
        )
        print(f"\nnew room answering with its programme {time.monotonic() - done:.2f} s after reload_config returned")
        pids = {process.pid for process in (*a.processes, *b.processes)}

    assert result.returncode == 0, result.stderr
    applied = [line for line in result.stdout.splitlines() if line.startswith("applied: ")]
    assert {int(line.split(":")[2].split(" ")[0]) for line in applied} == pids
    assert sorted(line.split(" ")[1] for line in applied) == ["web", "web", "worker"]
    assert all(line.endswith("(added annex)") for line in applied)
    assert result.stdout.splitlines()[-1] == "reloaded in 3 processes"


def test_sighup_to_one_web_process_reaches_the_others_and_the_worker(site_env, tmp_path, redis_client):
    env = own_config(site_env, tmp_path)
    with running(env, tmp_path) as a, running(env, tmp_path, worker=False) as b:
        wait_for(lambda: len(followers(redis_client)) == 3, timeout=20, what="three processes following orders")
        add_annex(env, tmp_path)
        os.kill(b.processes[0].pid, signal.SIGHUP)
        # The worker heard it too: it fetched the new room's programme and set its now/next.
        wait_for(
            lambda: now_in_annex(a.url) == now_in_annex(b.url) == "Annex opening",
            timeout=10,
            what="the new room and its programme on both web processes",
        )
        reported = "config reload (SIGHUP) across processes"
        wait_for(lambda: reported in log_of(tmp_path, b, 0), timeout=10, what="the report of the SIGHUP'd process")
    log = log_of(tmp_path, b, 0)
    assert "config reload (SIGHUP) across processes: applied: web" in log
    assert log.count("(added annex)") == 3, log


def test_reload_config_fails_naming_a_process_that_did_not_answer(site_env, tmp_path, redis_client):
    env = own_config(site_env, tmp_path)
    with running(env, tmp_path) as site:
        wait_for(lambda: len(followers(redis_client)) == 2, timeout=20, what="two processes following orders")
        worker = site.processes[1]
        worker.send_signal(signal.SIGSTOP)  # alive, registered, but deaf
        try:
            add_annex(env, tmp_path)
            result = reload_config(env)
        finally:
            worker.send_signal(signal.SIGCONT)

    assert result.returncode == 1
    assert f"applied: web {socket.gethostname()}:{site.processes[0].pid} (added annex)" in result.stdout
    assert f"no answer: worker {socket.gethostname()}:{worker.pid}" in result.stdout
    assert "1 of 2 processes did not apply it" in result.stderr


def test_sighup_with_a_bad_edit_reloads_nothing_anywhere(site_env, tmp_path, redis_client):
    env = own_config(site_env, tmp_path)
    with running(env, tmp_path) as a, running(env, tmp_path, worker=False) as b:
        wait_for(lambda: len(followers(redis_client)) == 3, timeout=20, what="three processes following orders")
        edit = Path(env["ROOMS_CONFIG_DIR"]) / "config.private.json"
        edit.write_text(json.dumps({"config": {"secret": TEST_SECRET}, "annex": {"colour": "red"}}))
        os.kill(b.processes[0].pid, signal.SIGHUP)
        wait_for(lambda: "config not reloaded" in log_of(tmp_path, b, 0), timeout=5, what="the refusal")
        time.sleep(1)  # an order would reach the others well within this

    assert "config not reloaded" in log_of(tmp_path, b, 0)
    others = log_of(tmp_path, a, 0) + log_of(tmp_path, a, 1)  # the other web process, the worker
    assert "config not reloaded" not in others


def log_of(logs: Path, site, number: int) -> str:
    """The log of a process `running` started: its daphne (0) or its worker (1)."""
    return (logs / f"{site.url.rsplit(':', 1)[1]}-{number}.log").read_text()
