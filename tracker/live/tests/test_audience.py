"""Viewer counts and playback health: per tab, per process, per room."""

import asyncio
import json
import time

import pytest
from channels.testing import WebsocketCommunicator

from testing.factories import ROOMS
from tracker.encoders import store
from tracker.live import audience
from tracker.live import hub as live
from tracker.live.hub import get_hub
from tracker.routing import websocket_application

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


async def viewer(room: str | None, tab: str, address: str = "127.0.0.1") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(websocket_application, "/ws/live/", headers=HEADERS)
    communicator.scope["client"] = [address, 50000]
    assert (await communicator.connect())[0]
    await communicator.receive_from(timeout=3)
    if room:
        await communicator.send_to(text_data=json.dumps({"type": "watch", "room": room, "tab": tab}))
    return communicator


async def settle() -> None:
    await asyncio.sleep(0.05)  # let the consumers handle what was sent


@pytest.mark.usefixtures("redis")
async def test_audience_counts_tabs_not_sockets():
    sockets = [
        await viewer("example", "tab-aaaaaaaa"),
        await viewer("example", "tab-aaaaaaaa"),
        await viewer("example", "tab-bbbbbbbb"),
        await viewer("hall-2", "tab-cccccccc"),
        await viewer(None, ""),
    ]
    await settle()

    counts = get_hub().audience()

    assert {room: figures["viewers"] for room, figures in counts.items()} == {"example": 2, "hall-2": 1}
    await sockets[2].disconnect()
    await settle()
    assert get_hub().audience()["example"]["viewers"] == 1
    for socket in sockets[:2] + sockets[3:]:
        await socket.disconnect()


@pytest.mark.usefixtures("redis")
async def test_audience_playback_health_is_counted_per_state():
    first = await viewer("example", "tab-aaaaaaaa", "198.51.100.1")
    second = await viewer("example", "tab-bbbbbbbb", "198.51.100.2")
    await first.send_to(text_data=json.dumps({"type": "health", "state": "buffering", "format": "hls"}))
    await second.send_to(text_data=json.dumps({"type": "health", "state": "playing"}))
    await settle()

    assert get_hub().audience()["example"]["health"] == {"buffering": 1, "playing": 1}
    await first.disconnect()
    await second.disconnect()


@pytest.mark.usefixtures("redis")
async def test_playback_health_counts_once_per_client_however_many_tabs():
    tabs = [await viewer("example", f"tab-{n:08d}", f"2001:db8:5:6::{n + 1:x}") for n in range(3)]  # one /64
    for socket in tabs:
        await settle()  # watching first, in order: the first tab to report is the one that counts
        await socket.send_to(text_data=json.dumps({"type": "health", "state": "error"}))
    other = await viewer("example", "tab-otherclient", "198.51.100.9")
    await other.send_to(text_data=json.dumps({"type": "health", "state": "playing"}))
    await settle()

    assert get_hub().audience()["example"]["health"] == {"error": 1, "playing": 1}
    await tabs[0].disconnect()  # the tab that counted leaves: another of that client's may count
    await tabs[1].send_to(text_data=json.dumps({"type": "health", "state": "playing"}))
    await settle()
    assert get_hub().audience()["example"]["health"] == {"playing": 2}
    for socket in [*tabs[1:], other]:
        await socket.disconnect()


@pytest.mark.usefixtures("redis")
async def test_audience_bad_watch_message_closes_the_socket():
    communicator = await viewer(None, "")

    await communicator.send_to(text_data=json.dumps({"type": "watch", "room": "nowhere", "tab": "tab-aaaaaaaa"}))
    output = await communicator.receive_output(timeout=3)

    assert (output["type"], output["code"]) == ("websocket.close", 4400)


async def test_audience_totals_add_processes_and_drop_stale_ones(redis_client):
    redis = store.get_redis()
    failing = {"tabs": 1, "format": "hls", "error": "manifestLoadError"}
    await audience.report_process(redis, "web-1", {"example": {"viewers": 3, "health": {"playing": 3}}}, now=1000.0)
    web_2 = {"viewers": 2, "health": {"buffering": 1}, "clients": 2, "failing": 1, "evidence": [failing]}
    await audience.report_process(redis, "web-2", {"example": web_2}, now=1000.0)
    await audience.report_process(redis, "gone", {"example": {"viewers": 50, "health": {}}}, now=900.0)

    totals = await audience.publish_totals(redis, list(ROOMS), now=1001.0)
    again = await audience.publish_totals(redis, list(ROOMS), now=1002.0)

    assert totals["example"] == {
        "viewers": 5,
        "health": {"playing": 3, "buffering": 1},
        "clients": 2,
        "failing": 1,
        "evidence": [failing],
    }
    assert again == totals
    assert set(redis_client.hkeys("streaming:audience")) == {"web-1", "web-2"}
    assert await store.read_viewer_counts(redis, list(ROOMS)) == {"example": 5, "hall-2": 0}


async def test_audience_counts_are_no_room_versions(redis_client):
    redis = store.get_redis()
    feed = redis.pubsub(ignore_subscribe_messages=True)
    await feed.subscribe(store.live_channel())
    await audience.report_process(redis, "web-1", {"example": {"viewers": 3, "health": {}}}, now=time.time())

    await audience.publish_totals(redis, list(ROOMS))

    assert await feed.get_message(timeout=0.5) is None  # nothing for every viewer socket
    assert redis_client.get("streaming:version") in (None, "0")
    await feed.aclose()


async def test_audience_counts_reach_only_the_pages_showing_them(redis_client, monkeypatch):
    monkeypatch.setattr(live, "FIGURES_SECONDS", 0.2)
    room_page = await viewer("example", "tab-aaaaaaaa")
    other_room = await viewer("hall-2", "tab-bbbbbbbb")
    index = await viewer(None, "")
    await index.send_to(text_data=json.dumps({"type": "viewers"}))
    in_room = await viewer(None, "")
    await in_room.send_to(text_data=json.dumps({"type": "viewers", "room": "example"}))
    programme = await viewer(None, "")  # shows no counts, asks for none
    await settle()
    redis = store.get_redis()
    await audience.report_process(redis, "web-2", {"example": {"viewers": 4, "health": {}}}, now=time.time())
    await audience.report_process(redis, get_hub().process, get_hub().audience(), now=time.time())

    await audience.publish_totals(redis, list(ROOMS))

    # Each page gets what it shows: its room's count (hall-2 went from 0 to 1), or all.
    assert json.loads(await room_page.receive_from(timeout=3)) == {"type": "viewers", "rooms": {"example": 5}}
    assert json.loads(await in_room.receive_from(timeout=3)) == {"type": "viewers", "rooms": {"example": 5}}
    assert json.loads(await other_room.receive_from(timeout=3)) == {"type": "viewers", "rooms": {"hall-2": 1}}
    assert json.loads(await index.receive_from(timeout=3)) == {
        "type": "viewers",
        "rooms": {"example": 5, "hall-2": 1},
    }
    assert await programme.receive_nothing(timeout=0.6)
    # Unchanged counts are not sent again; a new socket's snapshot has them.
    assert await room_page.receive_nothing(timeout=0.6)
    late = WebsocketCommunicator(websocket_application, "/ws/live/", headers=HEADERS)
    assert (await late.connect())[0]
    snapshot = json.loads(await late.receive_from(timeout=3))
    assert {room["name"]: room["viewers"] for room in snapshot["rooms"]} == {"example": 5, "hall-2": 1}
    assert snapshot["version"] == 0
    for socket in (room_page, other_room, index, in_room, programme, late):
        await socket.disconnect()


@pytest.mark.usefixtures("redis")
async def test_audience_viewers_message_for_an_unknown_room_closes_the_socket():
    communicator = await viewer(None, "")

    await communicator.send_to(text_data=json.dumps({"type": "viewers", "room": "nowhere"}))
    output = await communicator.receive_output(timeout=3)

    assert (output["type"], output["code"]) == ("websocket.close", 4400)


async def test_audience_reaches_operators_without_an_ops_version(redis_client, transactional_db, client):
    from tracker.ops.tests.test_ops_feed import connect, logged_in_cookie

    operator = await connect(await logged_in_cookie(client))
    snapshot = json.loads(await operator.receive_from(timeout=3))
    redis = store.get_redis()
    figures = {"example": {"viewers": 3, "health": {"playing": 3}}}
    await audience.report_process(redis, "web-1", figures, now=time.time())

    await audience.publish_totals(redis, list(ROOMS))
    figure = json.loads(await operator.receive_from(timeout=3))
    await audience.publish_totals(redis, list(ROOMS))  # unchanged: nothing more

    assert figure == {
        "type": "audience",
        "data": {
            "example": {"viewers": 3, "health": {"playing": 3}, "clients": 0, "failing": 0, "evidence": []},
            "hall-2": {"viewers": 0, "health": {}, "clients": 0, "failing": 0, "evidence": []},
        },
    }
    # The ops feed's version counts state changes only: a browser sees no gap and no resync.
    assert int(redis_client.get("streaming:ops:version") or 0) == snapshot["version"]
    assert await operator.receive_nothing(timeout=0.5)
    # A snapshot taken now has the newest figure.
    await operator.send_to(text_data=json.dumps({"type": "snapshot"}))
    again = json.loads(await operator.receive_from(timeout=3))
    assert again["audience"]["example"]["viewers"] == 3
    assert again["version"] == snapshot["version"]
    await operator.disconnect()


async def test_audience_counts_sent_are_counted_once(redis_client):
    room_page = await viewer("example", "tab-aaaaaaaa")
    hub = get_hub()
    await asyncio.sleep(live.REPORT_SECONDS * 1.5)  # whatever the join counted is reported
    pushed = int(redis_client.get("streaming:stats:pushed") or 0) + hub.unflushed_sends

    await hub.send_counts({"example": 7, "hall-2": 0})
    assert json.loads(await room_page.receive_from(timeout=3)) == {"type": "viewers", "rooms": {"example": 7}}
    await asyncio.sleep(live.REPORT_SECONDS * 2.5)

    # One message to one socket, in the metrics' "pushed" once.
    assert int(redis_client.get("streaming:stats:pushed") or 0) + hub.unflushed_sends - pushed == 1
    await room_page.disconnect()


@pytest.mark.usefixtures("redis")
async def test_a_quiet_pages_ping_is_answered():
    page = await viewer(None, "")
    for _ in range(3):
        await page.send_to(text_data='{"type":"ping"}')
        assert json.loads(await page.receive_from(timeout=3)) == {"type": "pong"}
    await page.disconnect()


@pytest.mark.usefixtures("redis")
async def test_a_stopping_process_withdraws_its_counts_at_once():
    from tracker.live.draining import CLOSE_RESTARTING, REASON

    redis = store.get_redis()
    hub = get_hub()
    await audience.report_process(redis, hub.process, {"example": {"viewers": 40, "health": {}}}, now=time.time())

    await hub.close_all(code=CLOSE_RESTARTING, reason=REASON)

    totals, _ = audience.combine(await redis.hgetall(store.key("audience")), list(ROOMS), now=time.time())
    assert totals["example"]["viewers"] == 0  # not counted again next to its successor's report
