"""Viewer counts and playback health: per tab, per process, per room."""

import asyncio
import json

from channels.testing import WebsocketCommunicator

from tracker import audience, store
from tracker.live import get_hub
from tracker.routing import websocket_application

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


async def viewer(room: str | None, tab: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(websocket_application, "/ws/live/", headers=HEADERS)
    assert (await communicator.connect())[0]
    await communicator.receive_from(timeout=3)
    if room:
        await communicator.send_to(text_data=json.dumps({"type": "watch", "room": room, "tab": tab}))
    return communicator


async def settle() -> None:
    await asyncio.sleep(0.05)  # let the consumers handle what was sent


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


async def test_audience_playback_health_is_counted_per_state():
    first, second = await viewer("example", "tab-aaaaaaaa"), await viewer("example", "tab-bbbbbbbb")
    await first.send_to(text_data=json.dumps({"type": "health", "state": "buffering", "format": "hls"}))
    await second.send_to(text_data=json.dumps({"type": "health", "state": "playing"}))
    await settle()

    assert get_hub().audience()["example"]["health"] == {"buffering": 1, "playing": 1}
    await first.disconnect()
    await second.disconnect()


async def test_audience_bad_watch_message_closes_the_socket():
    communicator = await viewer(None, "")

    await communicator.send_to(text_data=json.dumps({"type": "watch", "room": "nowhere", "tab": "tab-aaaaaaaa"}))
    output = await communicator.receive_output(timeout=3)

    assert (output["type"], output["code"]) == ("websocket.close", 4400)


async def test_audience_totals_add_processes_and_drop_stale_ones(redis_client):
    redis = store.get_redis()
    live = redis.pubsub(ignore_subscribe_messages=True)
    await live.subscribe(store.live_channel())
    await audience.report_process(redis, "web-1", {"example": {"viewers": 3, "health": {"playing": 3}}}, now=1000.0)
    await audience.report_process(redis, "web-2", {"example": {"viewers": 2, "health": {"buffering": 1}}}, now=1000.0)
    await audience.report_process(redis, "gone", {"example": {"viewers": 50, "health": {}}}, now=900.0)

    totals = await audience.publish_totals(redis, ["example", "hall-2"], now=1001.0)
    again = await audience.publish_totals(redis, ["example", "hall-2"], now=1002.0)

    assert totals["example"] == {"viewers": 5, "health": {"playing": 3, "buffering": 1}}
    assert again == totals
    assert set(redis_client.hkeys("streaming:audience")) == {"web-1", "web-2"}
    messages = []
    while (message := await live.get_message(timeout=0.3)) is not None or not messages:
        if message:
            messages.append(json.loads(message["data"]))
    # One room message (example's count changed from 0 to 5); the unchanged second round sends none.
    assert [(m["room"], m["attrs"]["viewers"]) for m in messages] == [("example", 5)]
    await live.aclose()
