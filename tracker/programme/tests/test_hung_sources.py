"""A schedule source that never finishes (a FIFO, a stalled mount, a silent server) holds back no other room."""

import asyncio
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tracker.encoders import store
from tracker.programme import sync as schedule_sync
from tracker.programme.tests.test_schedule_sync import feed


def eventfeed(title: str) -> bytes:
    return feed((title, "2026-12-27 10:00:00", "2026-12-27 11:00:00"))


@pytest.fixture
def silent_server():
    """A URL whose server takes the connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/schedule.json"
    listener.close()


@pytest.fixture
def stalled_reads(monkeypatch):
    """Schedule files whose read blocks until the test ends, as on a stalled network mount."""
    stalled: set[str] = set()
    release = threading.Event()
    read_file = schedule_sync.read_file

    def reading(location: str, **kwargs):
        if location in stalled:
            release.wait()
        return read_file(location, **kwargs)

    monkeypatch.setattr(schedule_sync, "read_file", reading)
    yield stalled
    release.set()


async def titles(redis, room: str) -> list[str]:
    return [event["title"] for event in await store.get_schedule(redis, room) or []]


@pytest.mark.usefixtures("redis")
async def test_other_rooms_edits_land_within_one_round_while_sources_hang(
    use_config, tmp_path: Path, silent_server: str, stalled_reads: set[str], monkeypatch
):
    monkeypatch.setattr(schedule_sync, "FETCH_TIMEOUT_SECONDS", 1)
    fifo, stalled, good = tmp_path / "fifo.json", tmp_path / "stalled.json", tmp_path / "good.json"
    os.mkfifo(fifo)
    stalled.write_bytes(eventfeed("Never read"))
    stalled_reads.add(str(stalled))
    good.write_bytes(eventfeed("Before"))
    utc = {"schedule-key": "Saal 1", "schedule-timezone": "Europe/Berlin"}
    use_config(
        example={"schedule": str(fifo), **utc},
        **{"hall-2": {"schedule": silent_server, **utc}},
        **{"hall-3": {"schedule": str(stalled), **utc}},
        **{"hall-4": {"schedule": str(good), **utc}},
    )
    redis = store.get_redis()

    started = time.monotonic()
    first = await schedule_sync.sync(redis)
    good.write_bytes(eventfeed("After the edit"))
    os.utime(good, (time.time() + 5, time.time() + 5))
    second = await schedule_sync.sync(redis)
    took = time.monotonic() - started

    assert (first, second) == (["hall-4"], ["hall-4"])
    assert await titles(redis, "hall-4") == ["After the edit"]
    assert took < 10  # two rounds, each ending by its deadline (1 s here), not by the hung sources
    health = await store.get_ops_state(redis, "schedules")
    assert "not a regular file" in health["example"]["error"]
    assert "within 1 s" in health["hall-2"]["error"]
    assert "within 1 s" in health["hall-3"]["error"] or "not finished" in health["hall-3"]["error"]


def test_a_fifo_as_a_schedule_is_refused_by_check_config_and_reload_config(use_config, tmp_path: Path, capsys):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    use_config(example={"schedule": str(fifo)})

    with pytest.raises(CommandError):
        call_command("check_config")
    with pytest.raises(CommandError, match="not a regular file"):
        call_command("reload_config")

    assert f"file {str(fifo)!r} is not a regular file" in capsys.readouterr().err


async def test_a_file_read_never_waits_past_its_deadline(tmp_path: Path, stalled_reads: set[str], monkeypatch):
    monkeypatch.setattr(schedule_sync, "FETCH_TIMEOUT_SECONDS", 0.2)
    stalled = tmp_path / "stalled.json"
    stalled.write_bytes(b"[]")
    stalled_reads.add(str(stalled))

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(schedule_sync.fetch_in_time(str(stalled), etag="", last_modified=""), timeout=5)
    with pytest.raises(TimeoutError, match="not finished"):  # no second thread on the same hung read
        await schedule_sync.fetch_in_time(str(stalled), etag="", last_modified="")
