"""One room's records are read through its member set, not the whole site's records hash."""

from __future__ import annotations

from testing.factories import report, stream
from tracker.encoders import store


def sent_by_redis(redis_client) -> int:
    return int(redis_client.info("stats")["total_net_output_bytes"])


async def test_a_rooms_records_are_read_without_the_other_rooms(redis_client):
    await report("example", "a", stream("https://a/x.m3u8"))
    await report("example", "b", stream("https://b/x.m3u8"))
    await report("hall-2", "model", stream("https://h/x.m3u8"))
    # A big site: a thousand more records in the other room, stored as the model's.
    text = redis_client.hget(store.key("records"), "hall-2/model")
    redis_client.hset(store.key("records"), mapping={f"hall-2/e{n}": text for n in range(1000)})
    assert await store.index_rooms(store.get_redis()) == 1000
    site = len(str(redis_client.hgetall(store.key("records"))))

    before = sent_by_redis(redis_client)
    records, _ = await store.records_and_assigned(store.get_redis(), "example")
    read = sent_by_redis(redis_client) - before

    assert sorted(r.member for r in records) == ["example/a", "example/b"]
    assert read < site / 50, f"read {read} bytes for two records of a {site}-byte site"


async def test_records_stored_before_the_index_are_found_once_the_worker_indexes_them(redis_client):
    await report("example", "a", stream())
    text = redis_client.hget(store.key("records"), "example/a")
    redis_client.delete(store.key("members", "example"))  # as stored by a version without the sets
    redis = store.get_redis()
    assert await store.read_records(redis, room="example") == []

    assert await store.index_rooms(redis) == 1
    assert await store.index_rooms(redis) == 0

    assert [r.to_json() for r in await store.read_records(redis, room="example")] == [text]


async def test_a_removed_encoder_leaves_its_rooms_members(redis_client):
    await report("example", "a", stream("https://a/x.m3u8"))
    await report("example", "b", stream("https://b/x.m3u8"))

    assert await store.remove_encoder(store.get_redis(), "example", "a")

    assert redis_client.smembers(store.key("members", "example")) == {"example/b"}
    assert [r.name for r in await store.read_records(store.get_redis(), room="example")] == ["b"]
