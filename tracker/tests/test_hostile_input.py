"""What an adversarial pass found reaching a 500, a 1011 or another client: each now a 4xx for the sender only."""

import asyncio
import json
import time

import pytest
from channels.testing import WebsocketCommunicator

from testing.factories import heartbeat, stream
from testing.processes import TEST_SECRET
from tracker.live import budgets
from tracker.routing import websocket_application

STREAM = stream("https://cdn.example/a.m3u8")


def beat(**overrides) -> dict:
    return heartbeat(STREAM) | overrides


async def post_beat(async_client, body, token: str):
    data = body if isinstance(body, str) else json.dumps(body)
    return await async_client.post(
        "/tracker/api/heartbeat", data, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (beat(streams=[{**STREAM, "url": "http://[::1"}]), "streams[0].url"),
        (beat(streams=[{**STREAM, "url": "http://["}]), "streams[0].url"),
        (beat(streams=[{**STREAM, "url": "http://host:99999/x"}]), "streams[0].url"),
        (beat(streams=[{**STREAM, "format": ["hls"]}]), "streams[0].format"),
        (beat(streams=[{**STREAM, "format": {"a": 1}}]), "streams[0].format"),
        (beat(room=["example"]), "room"),
        (beat(encoder={"a": 1}), "encoder"),
        (beat(room="exa\x00mple"), "room"),
        ({**beat(), "": None}, "body"),  # found by the fuzzer: an unknown field with no name
        (beat(streams=[{**STREAM, "url": "https://cdn.example/a\r\nX-Injected: 1"}]), "streams[0].url"),
        (beat(metrics={"errors": [{"source": "a\u0085b", "reason": "x"}]}), "metrics.errors[0].source"),
        (beat(metrics={"errors": [{"source": "a", "reason": "\udfff"}]}), "metrics.errors[0].reason"),
        ('{"room": "example", "encoder": "enc-1", "streams": [], "interval": ' + "9" * 5000 + "}", "body"),
    ],
)
async def test_heartbeat_malformed_is_400_naming_the_field_and_writes_nothing(
    async_client, encoder_token, redis_client, body, field
):
    before = {k: redis_client.dump(k) for k in redis_client.keys("*")}

    response = await post_beat(async_client, body, encoder_token)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert {k: redis_client.dump(k) for k in redis_client.keys("*")} == before


async def test_heartbeat_with_a_made_up_token_leaves_no_key(async_client, encoder_token, redis_client):
    before = {k: redis_client.dump(k) for k in redis_client.keys("*")}

    response = await post_beat(async_client, beat(), "made-up-token")

    assert response.status_code == 403
    # Only its client's refusal counter (one key per client, not per token, gone in seconds).
    [counted] = redis_client.keys("*:rate:refused:*")
    assert 0 < redis_client.ttl(counted) <= 10
    assert {k: redis_client.dump(k) for k in redis_client.keys("*") if k != counted} == before


@pytest.mark.parametrize("count", ["١٢", "²", "1" * 4000, "-1", "1e400", "nan"])
async def test_legacy_numbers_other_than_ascii_numbers_are_refused_as_the_original_would(
    async_client, redis_client, count
):
    form = {"secret": TEST_SECRET, "group": "example", "data": json.dumps({"ogg_high_clients": count})}

    response = await async_client.post("/tracker/endpoint/register", form)

    # The original's clients exit on any status but 200: the refusal is in the body.
    assert response.status_code == 200
    assert response.content.decode().startswith("ERROR ValueError ogg_high_clients")
    assert redis_client.keys("streaming:records") == []


@pytest.mark.parametrize(
    "query",
    [
        "at=2026-13-45",
        "at=\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
        "at=" + "9" * 5000,
        "link=http://[",
        "link=http://[::1",
        "at=0001-01-01T00:00+00:00",
    ],
)
@pytest.mark.parametrize("feed", ["schedule.json", "schedule.rss", "schedule.ics"])
async def test_feed_query_parameters_never_500(async_client, feed, query):
    response = await async_client.get(f"/tracker/api/rooms/example/{feed}?{query}")

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json()["field"] == "at"


async def live_socket(address: str = "198.51.100.7") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        websocket_application, "/ws/live/", headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    communicator.scope["client"] = (address, 40000)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    while True:
        output = await communicator.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return output["code"]


@pytest.mark.usefixtures("redis")
async def test_viewer_frame_over_budget_size_closes_4429():
    communicator = await live_socket()
    await communicator.receive_from()

    await communicator.send_to(text_data=json.dumps({"type": "snapshot", "pad": "x" * budgets.MAX_FRAME_BYTES}))

    assert await close_code(communicator) == 4429


@pytest.mark.usefixtures("redis")
async def test_viewer_frames_over_budget_rate_close_4429_and_later_frames_are_ignored():
    communicator = await live_socket()
    await communicator.receive_from()
    frame = json.dumps({"type": "watch", "room": "example", "tab": "tab-00001"})

    for _ in range(budgets.BURST + 50):
        await communicator.send_to(text_data=frame)

    assert await close_code(communicator) == 4429
    assert await communicator.receive_nothing(timeout=0.3)


async def test_viewer_frames_within_budget_are_served():
    budget = budgets.FrameBudget(now=0.0)
    spent = [budget.spend(now=i / budgets.FRAMES_PER_SECOND) for i in range(10 * budgets.FRAMES_PER_SECOND)]

    assert all(spent)  # a steady 10 a second, for 10 seconds
    assert not all(budget.spend(now=10.0) for _ in range(budgets.BURST + 1))


@pytest.mark.usefixtures("redis")
async def test_one_address_gets_its_cap_of_sockets_and_of_counted_tabs(use_config):
    use_config({"viewer-sockets-per-address": 3, "viewer-tabs-per-address": 2})
    from tracker.live.hub import get_hub

    sockets = [await live_socket() for _ in range(3)]
    for number, communicator in enumerate(sockets):
        await communicator.receive_from()
        await communicator.send_to(
            text_data=json.dumps({"type": "watch", "room": "example", "tab": f"tab-{number:05}"})
        )
    refused = await live_socket()
    other = await live_socket("203.0.113.9")
    await other.receive_from()
    await other.send_to(text_data=json.dumps({"type": "watch", "room": "example", "tab": "tab-other"}))
    await asyncio.sleep(0.2)

    assert await close_code(refused) == 4429
    assert get_hub().audience()["example"]["viewers"] == 3  # 2 of the capped address, 1 of the other
    for communicator in [*sockets, other]:
        await communicator.disconnect()
    assert budgets.address_limits().sockets == {}


@pytest.mark.usefixtures("redis")
async def test_venue_addresses_are_not_capped(use_config):
    use_config({"viewer-sockets-per-address": 1, "localips": ["10.0.0.0/8"]})

    sockets = [await live_socket("10.1.2.3") for _ in range(3)]

    for communicator in sockets:
        assert json.loads(await communicator.receive_from())["type"] == "snapshot"
        await communicator.disconnect()


@pytest.mark.timed
async def test_encoder_socket_store_outage_closes_4503(encoder_token, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    from tracker.encoders import store

    store._clients.clear()
    communicator = WebsocketCommunicator(
        websocket_application, "/tracker/ws/encoder/", headers=[(b"authorization", f"Bearer {encoder_token}".encode())]
    )
    await communicator.connect()
    started = time.monotonic()

    assert await close_code(communicator) == 4503
    assert time.monotonic() - started < 10
