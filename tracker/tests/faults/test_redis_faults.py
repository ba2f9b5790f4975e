"""Redis freezes and crashes under a running site: no encoder is blamed, nothing is lost.

Each test prints the recovery time it measured (pytest -s shows them); the
closing note of issue 13 lists them.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import redis

from testing.processes import free_port, running, wait_for
from tracker.encoders import subscription

from .clients import Encoder, Viewer, transitions

INTERVAL, GRACE = 2, 1  # the test rooms' grace


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=1) as response:
            return response.status == 200
    except (urllib.error.HTTPError, OSError):
        return False


def test_redis_frozen_longer_than_the_timeouts_is_not_an_encoder_outage(fault_env, own_redis, receiver, tmp_path):
    stall = 8  # past the 2 s command timeouts and the encoder's interval + grace
    with running(fault_env, tmp_path) as site:
        token = site.add_encoder("example", "cam-1")
        with (
            Encoder(site.url, token, name="cam-1", interval=INTERVAL, every=INTERVAL) as encoder,
            Viewer(site.url) as viewer,
        ):
            wait_for(lambda: transitions(own_redis.url) == [("cam-1", None, "up")], timeout=10, what="cam-1 up")
            own_redis.pause()
            frozen = time.monotonic()
            time.sleep(stall)
            own_redis.resume()
            resumed = time.monotonic()
            wait_for(lambda: ready(site.url), timeout=10, what="ready again")
            ready_in = time.monotonic() - resumed
            wait_for(lambda: encoder.first_accepted_after(resumed), timeout=10, what="a heartbeat accepted")
            # Long enough for a false late, down and its alert to happen.
            time.sleep(INTERVAL + GRACE + 3)
    # From half a second in: a heartbeat whose writes were done as the freeze came is still answered 200.
    refused = [status for at, status in encoder.answers if frozen + 0.5 < at < resumed]
    accepted_in = encoder.first_accepted_after(resumed) - resumed
    # A frozen Redis closes nothing: the live feed must find its subscription silent by itself.
    told_in = next((at for at, m in viewer.messages if m["type"] == "status" and at > frozen), float("inf")) - frozen
    resynced_in = next(at for at, m in viewer.messages if m["type"] == "snapshot" and at > resumed) - resumed
    print(
        f"\nredis frozen {stall} s: ready {ready_in:.2f} s after SIGCONT, heartbeat accepted after {accepted_in:.2f} s;"
        f" viewers told 'reconnecting' {told_in:.2f} s into the freeze, resynced {resynced_in:.2f} s after SIGCONT"
    )

    assert transitions(own_redis.url) == [("cam-1", None, "up")]  # never late, never down
    assert receiver.received == []
    assert refused and set(refused) == {503}  # refused quickly, so the encoder kept its cadence
    assert ready_in < 2
    assert accepted_in <= INTERVAL + 1
    assert told_in < subscription.SILENT_SECONDS + 2  # a second's quiet, the PING, then silence
    assert resynced_in < 2
    worker_log = next(tmp_path.glob("*-1.log")).read_text()
    assert "alerts cannot reach redis" in worker_log  # its reads have a deadline: not held for the whole freeze
    shown = [live for _, live in viewer.example_live()]
    assert shown[-1] is True and False not in shown[shown.index(True) :]  # viewers never saw it offline


def test_redis_killed_and_restarted_brings_the_state_back(fault_env, own_redis, receiver, tmp_path):
    dead_hook = f"http://127.0.0.1:{free_port()}/hook"  # refuses: its alert waits in the outbox
    config = json.loads((tmp_path / "config" / "config.private.json").read_text())
    config["config"]["webhooks"].append(dead_hook)
    (tmp_path / "config" / "config.private.json").write_text(json.dumps(config))
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    with running(fault_env, tmp_path) as site:
        tokens = site.add_encoder("example", "cam-1"), site.add_encoder("example", "cam-2")
        with Encoder(site.url, tokens[0], name="cam-1", interval=5, every=1) as cam1, Viewer(site.url) as viewer:
            with Encoder(site.url, tokens[1], name="cam-2", interval=1, every=1):
                wait_for(lambda: ("cam-2", None, "up") in transitions(own_redis.url), timeout=10, what="cam-2 up")
            wait_for(lambda: len(receiver.encoders) == 1, timeout=10, what="cam-2's down alert")
            # (Looked for by what it is: the room's own alert, redundancy lost, may be queued for the hook too.)
            wait_for(lambda: retry_queued(client, dead_hook, "cam-2"), timeout=10, what="the retry queued")
            wait_for(lambda: client.keys("streaming:hist:*"), timeout=15, what="history")
            time.sleep(1.5)  # appendfsync everysec: a crash loses at most the last second
            before = state_of(client)

            own_redis.kill()
            restarted = time.monotonic()
            own_redis.start()
            after = state_of(client)
            wait_for(lambda: ready(site.url), timeout=10, what="ready again")
            ready_in = time.monotonic() - restarted
            reconnected = len(viewer.messages)
            wait_for(
                lambda: any(m["type"] == "snapshot" for _, m in viewer.messages[reconnected:]),
                timeout=10,
                what="resync",
            )
            resynced_in = next(at for at, m in viewer.messages[reconnected:] if m["type"] == "snapshot") - restarted
            time.sleep(5 + GRACE + 2)  # past cam-1's interval + grace after the return
    print(f"\nredis killed: ready {ready_in:.2f} s after restart, viewers resynced after {resynced_in:.2f} s")

    assert after == before  # records, deadlines, logs, history, alert memory, outbox, tokens
    assert before["records"] == ["example/cam-1", "example/cam-2"] and before["tokens"] >= 2
    assert [t for t in transitions(own_redis.url) if t[0] == "cam-1"] == [("cam-1", None, "up")]
    assert [(a["name"], a["new"]) for a in receiver.encoders] == [("cam-2", "down")]  # no new alert
    assert cam1.first_accepted_after(restarted)
    assert ready_in < 3 and resynced_in < 5
    shown = [live for _, live in viewer.example_live()]
    assert False not in shown[shown.index(True) :]


def test_viewers_resync_within_a_second_of_redis_back_after_a_failovers_span(fault_env, own_redis, tmp_path):
    # Away for as long as Sentinel takes to promote a replica: the live feed must be trying
    # again when Redis is back, not asleep in a growing back-off (it came back 1.4 s late).
    with running(fault_env, tmp_path) as site, Viewer(site.url) as viewer:
        own_redis.kill()
        time.sleep(2)
        seen = len(viewer.messages)
        own_redis.start()
        back = time.monotonic()
        wait_for(lambda: any(m["type"] == "snapshot" for _, m in viewer.messages[seen:]), timeout=10, what="resync")
        resynced_in = next(at for at, m in viewer.messages[seen:] if m["type"] == "snapshot") - back
    print(f"\nredis away 2 s: viewers resynced {resynced_in:.2f} s after it was back")
    assert resynced_in < 1.0


def retry_queued(client: redis.Redis, url: str, encoder: str) -> bool:
    """Whether the outbox holds a later attempt at `url` of an alert about `encoder`."""
    jobs = [json.loads(text) for text in client.zrange("streaming:alerts:outbox", 0, -1)]
    return any(job["url"] == url and job["attempt"] >= 1 and job["payload"].get("name") == encoder for job in jobs)


def state_of(client: redis.Redis) -> dict:
    """What must survive a crash, in comparable form (what changes with every heartbeat left out)."""
    records = client.hgetall("streaming:records")
    return {
        "records": sorted(records),
        "states": {member: json.loads(text)["state"] for member, text in records.items()},
        "deadlines": client.zcard("streaming:deadlines"),
        "log": client.xlen("streaming:log:example"),
        "history": len(client.keys("streaming:hist:*")),
        "alert memory": client.hgetall("streaming:alerts:memory"),
        "outbox": client.zcard("streaming:alerts:outbox"),
        "tokens": client.hlen("streaming:tokens"),
    }


async def test_pooled_connections_outlive_a_redis_restart(own_redis, settings):
    import asyncio

    from tracker.encoders import store

    settings.REDIS_URL = own_redis.url
    client = store.connect()
    await asyncio.gather(*(client.incr("pings") for _ in range(20)))  # twenty connections in the pool
    own_redis.kill()
    own_redis.start()

    after = await asyncio.gather(*(client.incr("pings") for _ in range(20)), return_exceptions=True)
    await client.aclose()

    assert not [answer for answer in after if isinstance(answer, Exception)]  # no 503 per stale connection
    assert max(after) <= 40  # each sent once (AOF kept the first twenty, give or take the last second)
