"""A schedule server that drips one byte every few seconds: the fetch ends at
its total deadline, and every other room's schedule arrives meanwhile."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tracker.encoders import store
from tracker.programme import sync as schedule_sync
from tracker.programme.tests.test_schedule_sync import ScheduleServer

DEADLINE = 3  # instead of 20 s, to keep the suite quick


class DrippingServer:
    """Accepts HTTP connections and answers one byte every `every` seconds, forever."""

    def __init__(self, every: float) -> None:
        self.every, self.stopped, self.hung_up = every, threading.Event(), threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/schedule.json"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.drip, args=(connection,), daemon=True).start()

    def drip(self, connection: socket.socket) -> None:
        with connection:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[]":
                if self.stopped.wait(self.every):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    self.hung_up.set()  # the client gave up: as it should
                    return

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def sources(use_config, monkeypatch) -> Iterator[tuple[DrippingServer, ScheduleServer]]:
    slow, good = DrippingServer(every=1), ScheduleServer()
    use_config(
        example={"schedule": slow.url, "schedule-key": "Saal 1"},
        **{"hall-2": {"schedule": good.url, "schedule-key": "Saal 1", "schedule-timezone": "Europe/Berlin"}},
    )
    monkeypatch.setattr(schedule_sync, "FETCH_TIMEOUT_SECONDS", DEADLINE)
    yield slow, good
    slow.close()
    good.http.shutdown()


@pytest.mark.usefixtures("redis")
async def test_a_dripping_source_ends_at_its_deadline_and_holds_back_no_other(sources):
    redis = store.get_redis()
    changed = asyncio.Event()
    waking = asyncio.create_task(schedule_sync.wake_on_changes(changed))  # what wakes the worker's timer
    await asyncio.wait_for(changed.wait(), timeout=5)  # subscribed
    changed.clear()
    started = time.monotonic()

    sync = asyncio.create_task(schedule_sync.sync(redis))
    await asyncio.wait_for(changed.wait(), timeout=DEADLINE)
    others_in = time.monotonic() - started
    result = await sync
    waking.cancel()
    ended_in = time.monotonic() - started
    health = await store.get_ops_state(redis, "schedules")
    print(
        f"\nslow-drip source: other rooms stored after {others_in:.2f} s, the slow fetch ended after {ended_in:.2f} s"
    )

    assert result == ["hall-2"]
    assert others_in < 1
    assert DEADLINE <= ended_in < DEADLINE + 1
    assert health["example"]["error"] == f"no complete answer within {DEADLINE} s"
    assert health["hall-2"]["events"] == 3
    slow, _ = sources
    assert await asyncio.to_thread(slow.hung_up.wait, 3)  # the fetch's thread did not stay behind, reading
