"""/ws/live/ over the real Redis: snapshot, deltas, versions, recovery."""

import asyncio
import json
import time

import pytest
from channels.testing import WebsocketCommunicator

from testing.factories import report
from tracker.encoders import ingest, store
from tracker.routing import websocket_application

ORIGIN = (b"origin", b"http://127.0.0.1")


async def connect(origin=ORIGIN) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(websocket_application, "/ws/live/", headers=[origin, (b"host", b"127.0.0.1")])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive(communicator, timeout=3) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def heartbeat(async_client, token, clients=1):
    body = {
        "room": "example",
        "encoder": "enc-1",
        "interval": 1,
        "streams": [{"format": "webm", "url": "https://cdn.example/a.webm", "clients": clients, "bitrate": 100}],
    }
    response = await async_client.post(
        "/tracker/api/heartbeat",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def rooms_by_name(snapshot: dict) -> dict:
    return {room["name"]: room for room in snapshot["rooms"]}


@pytest.mark.usefixtures("redis")
async def test_live_connect_gets_snapshot_of_every_room():
    communicator = await connect()

    snapshot = await receive(communicator)

    assert snapshot["type"] == "snapshot"
    assert snapshot["version"] == 0
    assert {name: room["live"] for name, room in rooms_by_name(snapshot).items()} == {"example": False, "hall-2": False}
    await communicator.disconnect()


async def test_live_heartbeat_then_expiry_are_pushed_in_version_order(encoder_token, async_client):
    communicator = await connect()
    await receive(communicator)

    await heartbeat(async_client, encoder_token)
    live = await receive(communicator)
    await ingest.sweep(store.get_redis(), now=time.time() + 60)  # late: still live
    await ingest.sweep(store.get_redis(), now=time.time() + 60)  # down
    offline = await receive(communicator)

    assert (live["type"], live["version"], live["room"]["name"], live["room"]["live"]) == ("room", 1, "example", True)
    assert live["room"]["streams"] == [{"format": "webm", "quality": "", "url": "https://cdn.example/a.webm"}]
    assert (offline["version"], offline["room"]["live"]) == (2, False)
    await communicator.disconnect()


async def test_live_many_changes_arrive_with_consecutive_versions(encoder_token, async_client):
    communicator = await connect()
    await receive(communicator)

    for n in range(1, 21):
        await report("example", "enc-1", {"format": "webm", "url": f"https://a/{n}.webm", "clients": 0, "bitrate": 1})
    messages = [await receive(communicator) for _ in range(20)]

    assert [m["version"] for m in messages] == list(range(1, 21))
    assert [m["room"]["streams"][0]["url"] for m in messages] == [f"https://a/{n}.webm" for n in range(1, 21)]
    await communicator.disconnect()


async def test_live_consumer_idle_past_redis_timeouts_still_receives(encoder_token, async_client):
    # redis-py 8 reads with a 5 s timeout by default; an idle subscription
    # must survive that (channels-redis 4.3's consumers, blocking 5 s on a receive, did not: redis-py#4091).
    communicator = await connect()
    await receive(communicator)

    await asyncio.sleep(6.5)
    await heartbeat(async_client, encoder_token)

    message = await receive(communicator)
    assert (message["type"], message["version"]) == ("room", 1)  # not a resync snapshot
    await communicator.disconnect()


async def test_live_client_can_ask_for_a_fresh_snapshot(encoder_token, async_client):
    communicator = await connect()
    await receive(communicator)
    await heartbeat(async_client, encoder_token)
    await receive(communicator)

    await communicator.send_to(text_data=json.dumps({"type": "snapshot"}))
    snapshot = await receive(communicator)

    assert snapshot["type"] == "snapshot"
    assert snapshot["version"] == 1
    assert rooms_by_name(snapshot)["example"]["live"] is True
    await communicator.disconnect()


@pytest.mark.parametrize("text", ["hello", "[]", json.dumps({"type": "subscribe"})])
@pytest.mark.usefixtures("redis")
async def test_live_bad_client_message_closes_with_reason(text):
    communicator = await connect()
    await receive(communicator)

    await communicator.send_to(text_data=text)
    closed = await communicator.receive_output(timeout=3)

    assert closed["type"] == "websocket.close"
    assert closed["code"] == 4400
    assert "snapshot" in closed["reason"]


@pytest.mark.usefixtures("redis")  # even the consumer refusing the socket takes a channel from the layer
async def test_live_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        websocket_application, "/ws/live/", headers=[(b"origin", b"https://evil.example")]
    )

    connected, _ = await communicator.connect()

    assert not connected


async def test_live_lost_subscription_resyncs_with_a_snapshot(encoder_token, async_client, redis_client):
    communicator = await connect()
    await receive(communicator)

    # Cut the hub's pub/sub connection, then change state while it is down:
    # that change's message is lost, and the reconnect must make up for it.
    assert redis_client.client_kill_filter(_type="pubsub") >= 1
    await report("example", "during-outage", {"format": "hls", "url": "https://x/a.m3u8", "clients": 0, "bitrate": 0})
    types = []
    while True:
        message = await receive(communicator, timeout=5)
        types.append(message["type"])
        if message["type"] == "snapshot" and rooms_by_name(message)["example"]["live"]:
            break

    assert "snapshot" in types
    await communicator.disconnect()


async def test_live_hundreds_of_sockets_share_one_subscription(encoder_token, async_client, redis_client, use_config):
    use_config({"viewer-sockets-per-address": 1000})  # the test's sockets all come from one address
    communicators = [await connect() for _ in range(300)]
    for communicator in communicators:
        await receive(communicator)

    await heartbeat(async_client, encoder_token)
    received = [await receive(communicator) for communicator in communicators]

    assert {m["version"] for m in received} == {1}
    pubsub_clients = [c for c in redis_client.client_list() if c["flags"] == "P"]
    assert len(pubsub_clients) == 1
    for communicator in communicators:
        await communicator.disconnect()


@pytest.mark.usefixtures("redis")
async def test_live_changes_of_rooms_no_longer_configured_still_count_versions():
    communicator = await connect()
    snapshot = await receive(communicator)

    # A room taken out of the config whose state still changes (its encoders timing out).
    await store.set_room_attr(store.get_redis(), "retired", "viewers", 3)
    message = await receive(communicator)

    assert message == {"type": "noop", "version": snapshot["version"] + 1}
    await communicator.disconnect()
