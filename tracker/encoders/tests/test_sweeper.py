"""Sweeping by deadline against the real Redis: compare-and-set, logs, order."""

import asyncio
import json

import pytest

from testing.factories import ROOMS, published, report, stream
from tracker.encoders import ingest, store
from tracker.encoders.state_machine import State

STREAM = stream()


async def subscribe(redis, channel):
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    return pubsub


async def test_sweep_moves_up_late_down_at_exact_deadlines(redis_client):
    redis = store.get_redis()
    await report("example", "cam", STREAM, interval=10, now=1000.0)  # grace is 1 s in report()

    assert await ingest.sweep(redis, now=1010.499) == []  # tolerance: half the grace
    late = await ingest.sweep(redis, now=1010.5)
    assert await ingest.sweep(redis, now=1010.999) == []
    down = await ingest.sweep(redis, now=1011.0)

    assert [(t.old, t.new) for t in late + down] == [(State.UP, State.LATE), (State.LATE, State.DOWN)]
    assert redis_client.hgetall("streaming:room:example") == {}
    assert await store.next_deadline(redis) is None


async def test_two_sweepers_racing_make_one_transition_and_one_log_entry(redis_client):
    for i in range(20):
        await report("example", f"cam{i}", STREAM, interval=10, now=1000.0)
    redis_client.delete("streaming:log:example")

    first, second = await asyncio.gather(
        ingest.sweep(store.connect(), now=1010.5), ingest.sweep(store.connect(), now=1010.5)
    )

    assert sorted(t.name for t in first + second) == sorted(f"cam{i}" for i in range(20))
    assert redis_client.xlen("streaming:log:example") == 20


@pytest.mark.usefixtures("redis")
async def test_changes_are_published_with_consecutive_versions():
    redis = store.get_redis()
    live = await subscribe(redis, store.live_channel())
    await report("example", "a", STREAM, now=1000.0)
    await report("example", "b", STREAM, now=1005.0)
    await ingest.sweep(redis, now=1010.5)  # a late: public state unchanged
    await ingest.sweep(redis, now=1011.0)  # a down

    messages = await published(live)

    assert [m["version"] for m in messages] == [1, 2, 3]
    assert [sorted(m["encoders"]) for m in messages] == [["a"], ["a", "b"], ["b"]]
    await live.aclose()


@pytest.mark.usefixtures("redis")
async def test_every_record_change_goes_to_operators_with_its_transition():
    redis = store.get_redis()
    ops = await subscribe(redis, store.ops_channel())
    await report("example", "a", STREAM, now=1000.0)
    await report("example", "a", STREAM, now=1002.0)

    messages = await published(ops)

    assert [m["version"] for m in messages] == [1, 2]
    assert [m["encoder"]["last_seen"] for m in messages] == [1000.0, 1002.0]
    assert messages[0]["transition"]["new"] == "up"
    assert messages[1]["transition"] is None
    await ops.aclose()


@pytest.mark.usefixtures("redis")
async def test_unchanged_public_report_publishes_nothing_to_viewers():
    redis = store.get_redis()
    await report("example", "a", STREAM, now=1000.0)
    live = await subscribe(redis, store.live_channel())

    await report("example", "a", STREAM, now=1002.0)

    assert await published(live) == []
    await live.aclose()


async def test_log_keeps_transitions_with_reasons(redis_client):
    redis = store.get_redis()
    await report("example", "a", STREAM, now=1000.0)
    await ingest.sweep(redis, now=1010.5)

    entries = [json.loads(fields["transition"]) for _, fields in redis_client.xrange("streaming:log:example")]

    assert [(e["old"], e["new"], e["reason"]) for e in entries] == [
        (None, "up", "first heartbeat"),
        ("up", "late", "no heartbeat for 10.5 s"),
    ]


@pytest.mark.usefixtures("redis")
async def test_snapshot_and_version_agree():
    redis = store.get_redis()
    await report("hall-2", "a", STREAM, now=1000.0)

    snapshot = await store.read_snapshot(redis, list(ROOMS))

    assert snapshot.version == 1
    assert snapshot.rooms["example"] == store.RoomState(reports={}, attrs={})
    assert snapshot.rooms["hall-2"].reports == {"a": {"streams": [{"format": "hls", "url": "https://a/x.m3u8"}]}}


async def test_encoders_down_longer_than_history_are_forgotten(redis_client):
    redis = store.get_redis()
    await report("example", "gone", STREAM, now=1000.0)
    await report("example", "recent", STREAM, now=90_000.0)
    await ingest.sweep(redis, now=1010.5)
    await ingest.sweep(redis, now=1011.0)  # "gone" is down since 1011

    forgotten = await ingest.forget_long_down(redis, now=1011.0 + 24 * 3600 + 1, hours=24)

    assert forgotten == ["example/gone"]
    assert redis_client.hkeys("streaming:records") == ["example/recent"]


async def test_a_deadline_without_a_record_is_dropped(redis_client):
    redis_client.zadd("streaming:deadlines", {"example/ghost": 5.0})

    await ingest.sweep(store.get_redis(), now=10.0)

    assert redis_client.zcard("streaming:deadlines") == 0
