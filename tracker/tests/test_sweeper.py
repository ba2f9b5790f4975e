"""Liveness by deadline, with the clock in the test's hands."""

import asyncio
import json

from tracker import store

REPORT = {"interval": 10, "streams": []}


async def subscribe(redis):
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(store.live_channel())
    return pubsub


async def published(pubsub) -> list[dict]:
    """Everything published within half a second (subscribe acks read as None)."""
    messages = []
    deadline = asyncio.get_running_loop().time() + 0.5
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(timeout=0.1)
        if message is not None:
            messages.append(json.loads(message["data"]))
    return messages


async def test_encoder_expires_exactly_at_its_deadline(redis_client):
    redis = store.get_redis()
    await store.record_heartbeat(redis, room="example", encoder="e", report=REPORT, deadline=1015.0)

    before = await store.expire_due(redis, now=1014.999)
    at = await store.expire_due(redis, now=1015.0)

    assert before == []
    assert at == ["example/e"]
    assert redis_client.hgetall("streaming:room:example") == {}


async def test_heartbeat_moves_the_deadline(redis_client):
    redis = store.get_redis()
    await store.record_heartbeat(redis, room="example", encoder="e", report=REPORT, deadline=1015.0)
    await store.record_heartbeat(redis, room="example", encoder="e", report=REPORT, deadline=1025.0)

    assert await store.expire_due(redis, now=1020.0) == []
    assert await store.next_deadline(redis) == 1025.0


async def test_changes_are_published_with_consecutive_versions():
    redis = store.get_redis()
    pubsub = await subscribe(redis)
    await store.record_heartbeat(redis, room="example", encoder="a", report=REPORT, deadline=1010.0)
    await store.record_heartbeat(redis, room="example", encoder="b", report=REPORT, deadline=1020.0)
    await store.expire_due(redis, now=1010.0)

    messages = await published(pubsub)

    assert [m["version"] for m in messages] == [1, 2, 3]
    assert [sorted(m["encoders"]) for m in messages] == [["a"], ["a", "b"], ["b"]]
    await pubsub.aclose()


async def test_unchanged_report_publishes_nothing():
    redis = store.get_redis()
    await store.record_heartbeat(redis, room="example", encoder="a", report=REPORT, deadline=1010.0)
    pubsub = await subscribe(redis)

    version = await store.record_heartbeat(redis, room="example", encoder="a", report=REPORT, deadline=1020.0)

    assert version == 0
    assert await published(pubsub) == []
    await pubsub.aclose()


async def test_two_sweepers_report_each_expiry_once(redis_client):
    redis = store.get_redis()
    for i in range(50):
        await store.record_heartbeat(redis, room="example", encoder=f"e{i}", report=REPORT, deadline=1000.0 + i)

    first, second = await asyncio.gather(
        store.expire_due(store.connect(), now=2000.0), store.expire_due(store.connect(), now=2000.0)
    )

    assert sorted(first + second) == sorted(f"example/e{i}" for i in range(50))
    assert not set(first) & set(second)
    assert int(redis_client.get("streaming:version")) == 100  # 50 arrivals, 50 departures


async def test_snapshot_and_version_agree():
    redis = store.get_redis()
    await store.record_heartbeat(redis, room="hall-2", encoder="a", report=REPORT, deadline=1010.0)

    snapshot = await store.read_snapshot(redis, ["example", "hall-2"])

    assert snapshot.version == 1
    assert snapshot.rooms == {"example": {}, "hall-2": {"a": REPORT}}
