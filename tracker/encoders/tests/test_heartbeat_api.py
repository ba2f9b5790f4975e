import asyncio
import json

import pytest

from testing import factories

URL = "/tracker/api/heartbeat"


def beat(**overrides) -> dict:
    return factories.heartbeat(stream(), interval=5) | overrides


def state_keys(redis_client) -> list[str]:
    """Keys holding encoder or room state (not tokens, rate limits or counters)."""
    bookkeeping = ("streaming:tokens", "streaming:rate:", "streaming:stats:")
    return [k for k in redis_client.keys("*") if not k.startswith(bookkeeping)]


def stream(**overrides) -> dict:
    return factories.stream("https://cdn.example/hd.m3u8", quality="hd", clients=3, bitrate=2000) | overrides


@pytest.fixture
def send(async_client, encoder_token):
    """POST a heartbeat with enc-1's token unless other headers are given."""

    async def send(body, *, headers=None):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers = {"Authorization": f"Bearer {encoder_token}"} if headers is None else headers
        return await async_client.post(URL, data, content_type="application/json", headers=headers)

    return send


async def test_heartbeat_accepted_and_stored(send, async_client, redis_client):
    response = await send(beat())

    assert response.status_code == 200
    assert response.json() == {"ok": True, "next": 5}
    public = json.loads(redis_client.hget("streaming:room:example", "enc-1"))
    record = json.loads(redis_client.hget("streaming:records", "example/enc-1"))
    assert public == {"streams": [{"format": "hls", "quality": "hd", "url": "https://cdn.example/hd.m3u8"}]}
    # No measured bandwidth sent: clients x bitrate goes out.
    assert (record["state"], record["interval"], record["streams"]) == ("up", 5, [stream(bandwidth=6000)])
    assert record["totals"] == {"clients": 3, "bandwidth": 6000}
    assert redis_client.zscore("streaming:deadlines", "example/enc-1") is not None


async def test_heartbeat_measured_bandwidth_is_kept_apart_from_encoding_bitrate(send, redis_client):
    response = await send(beat(streams=[stream(bandwidth=5000)]))

    assert response.status_code == 200
    record = json.loads(redis_client.hget("streaming:records", "example/enc-1"))
    assert (record["streams"][0]["bitrate"], record["streams"][0]["bandwidth"]) == (2000, 5000)
    assert record["totals"] == {"clients": 3, "bandwidth": 5000}


async def test_heartbeat_unknown_bitrate_stays_unknown_and_the_media_type_reaches_viewers(
    send, async_client, redis_client
):
    opus = stream(url="https://cdn.example/live.opus", format="audio", quality="live-opus", bitrate=None)
    response = await send(beat(streams=[{**opus, "mime": "audio/ogg; codecs=opus"}]))

    record = json.loads(redis_client.hget("streaming:records", "example/enc-1"))
    room = (await async_client.get("/tracker/api/rooms/example")).json()
    chosen = (await async_client.get("/tracker/api/rooms/example/stream?format=audio")).json()
    assert response.status_code == 200
    assert record["streams"][0]["bitrate"] is None  # never taken for 0
    assert "bandwidth" not in record["streams"][0]  # 3 listeners x unknown: unknown
    assert room["streams"] == [
        {
            "format": "audio",
            "quality": "live-opus",
            "url": "https://cdn.example/live.opus",
            "mime": "audio/ogg; codecs=opus",
        }
    ]
    assert chosen["mime"] == "audio/ogg; codecs=opus"


async def test_heartbeat_interval_defaults_to_ten(send, async_client):
    body = beat()
    del body["interval"]

    response = await send(body)

    assert response.json()["next"] == 10


async def test_heartbeat_room_shows_live_in_read_api(send, async_client):
    await send(beat())

    rooms = (await async_client.get("/tracker/api/rooms")).json()

    example = next(r for r in rooms["rooms"] if r["name"] == "example")
    assert example["live"] is True
    assert example["streams"] == [{"format": "hls", "quality": "hd", "url": "https://cdn.example/hd.m3u8"}]


@pytest.mark.parametrize(
    "headers, status",
    [({}, 401), ({"Authorization": "Basic abc"}, 401), ({"Authorization": "Bearer wrong-token"}, 403)],
)
async def test_heartbeat_without_valid_token_is_refused(send, async_client, redis_client, headers, status):
    response = await send(beat(), headers=headers)

    assert response.status_code == status
    assert response.json()["field"] == "Authorization"
    assert state_keys(redis_client) == []


async def test_heartbeat_for_unknown_room_is_404(send, async_client, redis_client):
    response = await send(beat(room="nowhere"))

    assert response.status_code == 404
    assert response.json()["field"] == "room"
    assert state_keys(redis_client) == []


@pytest.mark.parametrize(
    "body, field",
    [
        (b"{not json", "body"),
        (b"\xff\xfe", "body"),
        ([1, 2], "body"),
        ({k: v for k, v in beat().items() if k != "encoder"}, "encoder"),
        ({k: v for k, v in beat().items() if k != "streams"}, "streams"),
        (beat(room=5), "room"),
        (beat(room="x" * 65), "room"),
        (beat(encoder="a b"), "encoder"),
        (beat(encoder="e" * 65), "encoder"),
        (beat(interval=0), "interval"),
        (beat(streams=[stream(bandwidth=-1)]), "streams[0].bandwidth"),
        (beat(streams=[stream(bandwidth=1.5)]), "streams[0].bandwidth"),
        (beat(streams=[stream(mime="audio")]), "streams[0].mime"),
        (beat(streams=[stream(mime="audio/ogg; x=<b>")]), "streams[0].mime"),
        (beat(streams=[stream(mime=5)]), "streams[0].mime"),
        (beat(interval=301), "interval"),
        (beat(interval="10"), "interval"),
        (beat(interval=True), "interval"),
        (beat(interval=1.5), "interval"),
        (beat(extra=1), "extra"),
        (beat(streams={}), "streams"),
        (beat(streams=[stream()] * 33), "streams"),
        (beat(streams=["hls"]), "streams[0]"),
        (beat(streams=[stream(format="flv")]), "streams[0].format"),
        (beat(streams=[stream(clients=-1)]), "streams[0].clients"),
        (beat(streams=[stream(bitrate=-5)]), "streams[0].bitrate"),
        (beat(streams=[stream(bitrate="fast")]), "streams[0].bitrate"),
        (beat(streams=[stream(clients=None)]), "streams[0].clients"),
        (beat(streams=[stream(url="javascript:alert(1)")]), "streams[0].url"),
        (beat(streams=[stream(url="https://x/" + "a" * 2048)]), "streams[0].url"),
        (beat(streams=[stream(quality="h" * 33)]), "streams[0].quality"),
        (beat(streams=[stream(), stream(colour="red")]), "streams[1].colour"),
        (beat(streams=[{"format": "hls", "clients": 1, "bitrate": 1}]), "streams[0].url"),
    ],
)
async def test_heartbeat_bad_input_is_400_naming_the_field(send, async_client, redis_client, body, field):
    response = await send(body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["field"] == field
    assert response.json()["message"]
    assert state_keys(redis_client) == []


async def test_heartbeat_body_over_64_kib_is_413(send, async_client, redis_client):
    body = beat(padding="x" * 70_000)

    response = await send(body)

    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert state_keys(redis_client) == []


async def test_heartbeat_get_is_not_allowed(send, async_client):
    response = await async_client.get(URL)

    assert response.status_code == 405


async def test_heartbeat_with_redis_down_is_503_json(send, async_client, settings):
    from testing.processes import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = await send(beat())

    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert "Traceback" not in response.content.decode()


async def test_one_encoders_heartbeats_racing_each_other_are_never_a_5xx(send, use_config, redis_client):
    """Its own heartbeats racing each other are the encoder's doing: a 4xx that says so, never a 5xx."""
    use_config({"heartbeat-rate": 1000})  # past the budget: only the race decides

    responses = await asyncio.gather(*(send(beat(streams=[stream(clients=n)])) for n in range(40)))

    statuses = [response.status_code for response in responses]
    assert 200 in statuses
    assert 409 in statuses  # forty writers, five tries each: some lose every time
    assert all(status < 500 for status in statuses), statuses
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"busy"}
