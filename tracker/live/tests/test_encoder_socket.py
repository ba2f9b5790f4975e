"""/tracker/ws/encoder/: heartbeats over a websocket, acks, errors, revocation."""

import json

import pytest
from channels.testing import WebsocketCommunicator

from testing.factories import heartbeat, stream
from tracker.encoders import store
from tracker.routing import websocket_application

STREAM = stream(clients=2, bitrate=10)


def beat(**overrides) -> dict:
    return heartbeat(STREAM, interval=5) | overrides


async def open_socket(token: str | None) -> WebsocketCommunicator:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    communicator = WebsocketCommunicator(websocket_application, "/tracker/ws/encoder/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def exchange(communicator, frame) -> dict:
    await communicator.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await communicator.receive_from(timeout=3))


async def closed(communicator) -> dict:
    while (output := await communicator.receive_output(timeout=3))["type"] != "websocket.close":
        pass
    return output


async def record(redis_client, name="enc-1"):
    text = redis_client.hget("streaming:records", f"example/{name}")
    return json.loads(text) if text else None


async def test_encoder_socket_acks_each_frame_with_next_interval(encoder_token, redis_client):
    communicator = await open_socket(encoder_token)

    first = await exchange(communicator, beat())
    second = await exchange(communicator, beat(interval=7))

    assert first == {"ok": True, "next": 5}
    assert second == {"ok": True, "next": 7}
    assert (await record(redis_client))["state"] == "up"
    await communicator.disconnect()


async def test_encoder_socket_close_marks_disconnected_at_once(encoder_token, redis_client):
    communicator = await open_socket(encoder_token)
    await exchange(communicator, beat())

    await communicator.disconnect()

    assert (await record(redis_client))["state"] == "disconnected"
    assert redis_client.hgetall("streaming:room:example") == {}  # viewers no longer sent there


@pytest.mark.parametrize("token, code", [(None, 4401), ("not-a-token", 4403)])
async def test_encoder_socket_bad_auth_closes_with_code(transactional_db, token, code):
    communicator = await open_socket(token)

    output = await closed(communicator)

    assert output["code"] == code
    assert output["reason"]


async def test_encoder_socket_bad_frame_gets_error_naming_field(encoder_token, redis_client):
    communicator = await open_socket(encoder_token)

    answer = await exchange(communicator, beat(streams=[{**STREAM, "clients": -1}]))
    not_json = await exchange(communicator, "{oops")

    assert answer == {
        "ok": False,
        "error": "invalid",
        "message": "must be from 0 to 10000000",
        "field": "streams[0].clients",
    }
    assert not_json["field"] == "body"
    assert await record(redis_client) is None
    await communicator.disconnect()


async def test_encoder_socket_closes_after_repeated_bad_frames(encoder_token):
    communicator = await open_socket(encoder_token)

    for _ in range(4):
        assert (await exchange(communicator, "[]"))["ok"] is False
    await communicator.send_to(text_data="[]")
    output = await closed(communicator)

    assert output["code"] == 4400


async def test_encoder_socket_frame_over_64_kib_is_refused(encoder_token):
    communicator = await open_socket(encoder_token)

    await communicator.send_to(text_data=json.dumps(beat(padding="x" * 70_000)))
    output = await closed(communicator)

    assert output["code"] == 4413


async def test_encoder_socket_token_of_other_room_closes_4403(encoder_token):
    communicator = await open_socket(encoder_token)

    answer = await exchange(communicator, beat(room="hall-2"))
    output = await closed(communicator)

    assert answer["field"] == "room"
    assert output["code"] == 4403


async def test_encoder_socket_rate_limit_closes_4429(encoder_token):
    communicator = await open_socket(encoder_token)

    # The test config allows 5 per wall-clock second; 12 frames overflow a
    # second even if they straddle two.
    answers = []
    for _ in range(12):
        await communicator.send_to(text_data=json.dumps(beat()))
        output = await communicator.receive_output(timeout=3)
        if output["type"] != "websocket.send":
            break
        answers.append(json.loads(output["text"]))
    if answers[-1]["ok"] is False:
        output = await closed(communicator)

    assert answers[-1]["error"] == "rate_limited"
    assert sum(a["ok"] for a in answers) >= 5
    assert output["code"] == 4429


async def test_encoder_socket_revoked_token_is_closed_at_once(encoder_token):
    from asgiref.sync import sync_to_async

    from tracker.encoders.identities import hash_token, revoke_encoder

    communicator = await open_socket(encoder_token)
    await exchange(communicator, beat())

    await sync_to_async(revoke_encoder)("enc-1")
    output = await closed(communicator)

    assert (output["code"], output["reason"]) == (4403, "token revoked")
    assert await store.get_redis().hget(store.key("tokens"), hash_token(encoder_token)) is None
