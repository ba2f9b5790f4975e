"""Webhook alerts against a real HTTP receiver on loopback."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from testing.factories import report, stream
from tracker.encoders import ingest, store
from tracker.ops import actions, alerts

STREAM = stream()


class Receiver:
    """Records JSON POSTs; answers 500 to the first `fail` of them.

    With `hold` set, it records each POST as it arrives (`arrivals`) and
    answers none until `hold` is cleared: a sender caught mid-send.
    """

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.arrivals: list[tuple[float, dict]] = []  # (monotonic time, body) of every POST
        self.fail = 0
        self.hold = threading.Event()
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.arrivals.append((time.monotonic(), body))
                if receiver.hold.is_set():
                    receiver.released.wait(timeout=60)
                    return  # its sender is gone: no answer
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                else:
                    receiver.received.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def encoders(self) -> list[dict]:
        """The encoders' alerts, without the rooms' (`"kind": "room"`: on air, redundancy lost, ...)."""
        return [alert for alert in self.received if alert.get("kind") != "room"]

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()


@pytest.fixture
def receiver(use_config) -> Iterator[Receiver]:
    receiver = Receiver()
    use_config({"webhooks": [receiver.url], "alert-suppress-minutes": 10})
    yield receiver
    receiver.stop()


async def go_down_and_back(*, at: float) -> None:
    """An encoder with interval 10 and grace 1 goes down, then heartbeats again."""
    redis = store.get_redis()
    await report("example", "cam", STREAM, now=at)
    await ingest.sweep(redis, now=at + 10.5)
    await ingest.sweep(redis, now=at + 11)
    await report("example", "cam", STREAM, now=at + 20)


async def run_worker_once(*, now: float) -> int:
    redis = store.get_redis()
    await alerts.take_transitions(redis, consumer="test", now=now)
    return await alerts.deliver_due(redis, now=now)


@pytest.mark.usefixtures("redis")
async def test_alerts_sent_on_down_and_on_recovery(receiver):
    await alerts.ensure_groups(store.get_redis())
    await go_down_and_back(at=1000.0)

    delivered = await run_worker_once(now=1021.0)

    assert delivered == 2
    assert [(a["new"], a["name"]) for a in receiver.received] == [("down", "cam"), ("up", "cam")]
    assert receiver.received[0]["text"] == "DOWN: cam in Example Room — no heartbeat for 11 s"


@pytest.mark.usefixtures("redis")
async def test_alerts_sent_when_a_source_fails_and_when_it_is_back(receiver):
    await alerts.ensure_groups(store.get_redis())
    failed = {"errors": [{"source": "icecast", "reason": "expected mount /main.mp3 has no source"}]}
    await report("example", "cam", STREAM, now=1000.0)
    await report("example", "cam", STREAM, now=1005.0, metrics=failed)
    await report("example", "cam", STREAM, now=1010.0, metrics=failed)  # still degraded: no second alert
    await report("example", "cam", STREAM, now=1015.0)

    delivered = await run_worker_once(now=1016.0)

    assert delivered == 2
    assert [(a["old"], a["new"]) for a in receiver.received] == [("up", "degraded"), ("degraded", "up")]
    assert receiver.received[0]["text"].startswith("DEGRADED: cam in Example Room — ")
    assert "expected mount /main.mp3 has no source" in receiver.received[0]["text"]


@pytest.mark.usefixtures("redis")
async def test_alerts_flapping_encoder_gets_one_down_alert_per_window(receiver):
    await alerts.ensure_groups(store.get_redis())
    await go_down_and_back(at=1000.0)
    await run_worker_once(now=1021.0)

    await go_down_and_back(at=1100.0)  # down again within 10 minutes: suppressed
    await run_worker_once(now=1121.0)
    await go_down_and_back(at=1700.0)  # after the window: alerted again
    await run_worker_once(now=1721.0)

    assert [(a["new"], a["at"]) for a in receiver.received] == [
        ("down", 1011.0),
        ("up", 1020.0),
        ("down", 1711.0),
        ("up", 1720.0),
    ]


@pytest.mark.usefixtures("redis")
async def test_alerts_failed_delivery_is_retried_with_backoff(receiver):
    await alerts.ensure_groups(store.get_redis())
    receiver.fail = 2
    redis = store.get_redis()
    await report("example", "cam", STREAM, now=1000.0)
    await ingest.sweep(redis, now=1010.5)
    await ingest.sweep(redis, now=1011.0)

    first = await run_worker_once(now=1012.0)  # fails; retry in 5 s
    too_early = await alerts.deliver_due(redis, now=1016.0)
    second = await alerts.deliver_due(redis, now=1017.0)  # fails; retry in 15 s
    third = await alerts.deliver_due(redis, now=1032.0)

    assert (first, too_early, second, third) == (0, 0, 0, 1)
    assert [a["new"] for a in receiver.received] == ["down"]


@pytest.mark.usefixtures("redis")
async def test_alerts_are_not_sent_for_history_before_the_worker_started(receiver):
    await go_down_and_back(at=1000.0)
    await alerts.ensure_groups(store.get_redis())

    assert await run_worker_once(now=1021.0) == 0


def test_test_alert_command_sends_a_sample(receiver, capsys):
    call_command("test_alert")

    assert capsys.readouterr().out.strip() == "webhook 127.0.0.1: sent"
    assert receiver.received[0]["text"].startswith("DOWN: test-encoder in Example Room")


def test_test_alert_command_fails_loudly(receiver, capsys):
    receiver.fail = 1

    with pytest.raises(CommandError, match="1 of 1 alert targets failed"):
        call_command("test_alert")


@pytest.mark.usefixtures("redis")
async def test_alerts_are_not_sent_while_silenced_and_resume_by_themselves(receiver):

    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    await actions.silence(redis, {"room": "example", "minutes": 5}, by="op", now=990.0)  # until 1290

    await go_down_and_back(at=1000.0)
    during = await run_worker_once(now=1021.0)
    await go_down_and_back(at=1300.0)  # the silence ended at 1290
    after = await run_worker_once(now=1321.0)

    assert (during, after) == (0, 2)
    assert [(a["new"], a["at"]) for a in receiver.received] == [("down", 1311.0), ("up", 1320.0)]


@pytest.mark.usefixtures("redis")
async def test_alerts_silence_of_one_encoder_leaves_the_others_alerted(receiver):

    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    await report("example", "cam", STREAM, now=985.0)  # an operator silences an encoder that exists
    await actions.silence(redis, {"room": "example", "name": "cam", "minutes": 60}, by="op", now=990.0)
    await report("example", "other", STREAM, now=1000.0)

    await go_down_and_back(at=1000.0)
    await ingest.sweep(redis, now=1011.0)  # "other" is down too
    await run_worker_once(now=1021.0)

    assert [(a["name"], a["new"]) for a in receiver.received] == [("other", "down")]


@pytest.mark.usefixtures("redis")
async def test_alerts_resume_after_a_silence_is_ended_early(receiver):

    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    await actions.silence(redis, {"room": "example", "minutes": 60}, by="op", now=990.0)
    await actions.silence(redis, {"room": "example", "minutes": 0}, by="op", now=995.0)

    await go_down_and_back(at=1000.0)

    assert await run_worker_once(now=1021.0) == 2


@pytest.mark.usefixtures("redis")
async def test_an_alert_a_killed_worker_read_but_never_handled_is_claimed_back(receiver, monkeypatch):
    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    monkeypatch.setattr(alerts, "CLAIM_IDLE_SECONDS", 0.3)  # 10 s in production
    await go_down_and_back(at=1000.0)
    # What a worker killed between reading and handling leaves: entries pending on its name.
    await redis.xreadgroup(alerts.GROUP, "killed-worker", {store.key("log", "example"): ">"})

    too_soon = await run_worker_once(now=1021.0)
    await asyncio.sleep(0.4)
    claimed = await run_worker_once(now=1021.0)

    assert (too_soon, claimed) == (0, 2)
    assert [a["new"] for a in receiver.received] == ["down", "up"]
    assert (await redis.xpending(store.key("log", "example"), alerts.GROUP))["pending"] == 0


@pytest.mark.usefixtures("redis")
async def test_an_entry_two_workers_both_handle_is_alerted_once(receiver):
    redis = store.get_redis()
    log = store.key("log", "example")
    await alerts.ensure_groups(redis)
    await report("example", "cam", STREAM, now=1000.0)
    await ingest.sweep(redis, now=1010.5)
    await ingest.sweep(redis, now=1011.0)  # down
    [[_, entries]] = await redis.xreadgroup(alerts.GROUP, "slow", {log: ">"})
    entry_id, fields = entries[-1]  # late -> down
    # A second worker claims it while the first is still busy with it: both handle it.
    await redis.xautoclaim(log, alerts.GROUP, "other", min_idle_time=0)

    queued = [await alerts.take_entry(redis, log, entry_id, fields, now=1012.0) for _ in range(2)]

    assert queued == [1, 0]
    assert await alerts.deliver_due(redis, now=1012.0) == 1
    assert [a["new"] for a in receiver.received] == ["down"]


@pytest.mark.usefixtures("redis")
async def test_a_delivery_being_sent_is_leased_and_due_again_after_the_lease(receiver):
    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    await report("example", "cam", STREAM, now=1000.0)
    await ingest.sweep(redis, now=1010.5)
    await ingest.sweep(redis, now=1011.0)
    await alerts.take_transitions(redis, consumer="test", now=1012.0)
    receiver.hold.set()  # the worker is caught mid-send...
    sending = asyncio.create_task(alerts.deliver_due(redis, now=1012.0))
    await asyncio.to_thread(lambda: wait_until(lambda: receiver.arrivals))
    sending.cancel()  # ...and dies there

    during_lease = await alerts.deliver_due(redis, now=1012.0 + alerts.LEASE_SECONDS - 1)
    receiver.hold.clear()
    after_lease = await alerts.deliver_due(redis, now=1012.0 + alerts.LEASE_SECONDS)

    assert (during_lease, after_lease) == (0, 1)
    [(_, first), (_, again)] = receiver.arrivals
    assert first == again and first["id"].startswith("example-")  # the receiver can drop the resend


def wait_until(check, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.01)
