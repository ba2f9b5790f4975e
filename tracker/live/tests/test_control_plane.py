"""The control plane: orders for particular sockets go through the Channels layer (tracker.socket_orders)."""

import asyncio
import json
import logging

import pytest
from channels.testing import WebsocketCommunicator

from testing.processes import RedisProcess, free_port, use_layer
from tracker import socket_orders
from tracker.encoders import store
from tracker.encoders.identities import hash_token
from tracker.encoders.state_machine import Identity
from tracker.routing import websocket_application

LAYER = "streaming:layer:*"


async def encoder_socket(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        websocket_application, "/tracker/ws/encoder/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def beat_answer(communicator: WebsocketCommunicator, name: str) -> dict:
    frame = {"room": "example", "encoder": name, "interval": 5, "streams": []}
    await communicator.send_to(text_data=json.dumps(frame))
    return json.loads(await communicator.receive_from(timeout=3))


async def closed(communicator: WebsocketCommunicator) -> tuple[int, str]:
    while (output := await communicator.receive_output(timeout=3))["type"] != "websocket.close":
        pass
    return output["code"], output["reason"]


async def tokens_for(count: int) -> list[str]:
    """Tokens of encoders enc-0... in the example room, straight into Redis's copy (no database needed)."""
    tokens = [f"token-{i}" for i in range(count)]
    identities = {
        hash_token(token): Identity(name=f"enc-{i}", room="example", role="encoder", grace=5).to_json()
        for i, token in enumerate(tokens)
    }
    await store.get_redis().hset(store.key("tokens"), mapping=identities)
    return tokens


@pytest.mark.usefixtures("redis")
async def test_a_second_connection_takes_over_at_its_first_accepted_heartbeat_with_4409():
    [token] = await tokens_for(1)
    first = await encoder_socket(token)
    assert (await beat_answer(first, "enc-0"))["ok"] is True

    second = await encoder_socket(token)
    assert await first.receive_nothing(timeout=0.5)  # connected with the token, proven nothing yet
    assert (await beat_answer(first, "enc-0"))["ok"] is True
    assert (await beat_answer(second, "enc-0"))["ok"] is True

    assert await closed(first) == (4409, "replaced by a newer connection")
    assert await second.receive_nothing(timeout=0.3)  # its own order, however late, spares it
    await first.disconnect()
    await second.disconnect()


@pytest.mark.usefixtures("redis")
async def test_a_socket_with_only_a_token_takes_nothing_over():
    [token] = await tokens_for(1)
    first = await encoder_socket(token)
    assert (await beat_answer(first, "enc-0"))["ok"] is True

    leaked = await encoder_socket(token)
    await leaked.send_to(text_data="not a heartbeat")  # refused: still no takeover
    assert (json.loads(await leaked.receive_from(timeout=3)))["ok"] is False

    assert await first.receive_nothing(timeout=0.5)
    assert (await beat_answer(first, "enc-0"))["ok"] is True
    await first.disconnect()
    await leaked.disconnect()


@pytest.mark.usefixtures("redis")
async def test_encoder_sockets_are_told_4503_when_the_process_drains(monkeypatch):
    from tracker.live import draining
    from tracker.live.hub import get_hub

    [token] = await tokens_for(1)
    encoder = await encoder_socket(token)
    assert (await beat_answer(encoder, "enc-0"))["ok"] is True

    told = await get_hub().close_all(code=draining.CLOSE_RESTARTING, reason=draining.REASON)
    assert told >= 1
    assert await closed(encoder) == (4503, draining.REASON)
    monkeypatch.setattr(draining, "_draining", True)
    late = WebsocketCommunicator(
        websocket_application, "/tracker/ws/encoder/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    await late.connect()
    assert await closed(late) == (4503, draining.REASON)  # a new connection during the drain goes elsewhere
    await encoder.disconnect()


async def test_viewer_sockets_never_join_the_layer_encoder_sockets_do(redis_client):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    viewers = [WebsocketCommunicator(websocket_application, "/ws/live/", headers=headers) for _ in range(10)]
    for viewer in viewers:
        assert (await viewer.connect())[0]
        assert json.loads(await viewer.receive_from(timeout=3))["type"] == "snapshot"
    [token] = await tokens_for(1)
    encoder = await encoder_socket(token)
    assert (await beat_answer(encoder, "enc-0"))["ok"] is True  # its connect is done

    channels = redis_client.pubsub_channels(LAYER)

    # The encoder's own channel and its group's; nothing for ten viewers.
    assert sorted(c.split(":")[-1].split(".")[0] for c in channels) == ["__group__encoder", "specific"], channels
    await encoder.disconnect()
    for viewer in viewers:
        await viewer.disconnect()
    # A closed socket leaves the layer. Its UNSUBSCRIBE is sent without waiting for Redis's
    # answer, so this question on another connection may overtake it: asked until it is seen.
    for _ in range(30):
        if not (channels := redis_client.pubsub_channels(LAYER)):
            break
        await asyncio.sleep(0.1)
    assert channels == []


@pytest.mark.usefixtures("redis")
async def test_hundreds_of_encoder_sockets_held_idle_past_5_s_still_get_their_orders():
    # redis-py 8 reads with a 5 s timeout by default, and its pool fails at 100 connections (measured when
    # the project started: websocket connects answered 500 beyond a few thousand sockets).
    tokens = await tokens_for(200)
    sockets = [await encoder_socket(token) for token in tokens]
    await asyncio.sleep(6)

    assert await socket_orders.token_revoked("enc-7") is True

    assert await closed(sockets[7]) == (4403, "token revoked")
    for index in (0, 100, 199):  # the others are open and unaffected
        assert (await beat_answer(sockets[index], f"enc-{index}"))["ok"] is True
    for communicator in sockets:
        await communicator.disconnect()


@pytest.fixture
def layer_at(settings, redis):
    """Point the layer at another Redis (the tests' own keeps serving everything else)."""
    return lambda url: use_layer(settings, url)


async def test_orders_with_redis_away_are_logged_not_raised(layer_at, caplog):
    from asgiref.sync import sync_to_async

    layer_at(f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="tracker.socket_orders"):
        assert await socket_orders.token_revoked("enc-1") is False
        assert await sync_to_async(socket_orders.session_ended)(42) is False

    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "could not close the sockets of encoder.enc-1 (token revoked)",
        "could not close the sockets of operator.42 (your session ended",
    ]


async def test_the_layer_outlives_a_redis_outage_and_logs_it_once(layer_at, tmp_path, caplog):
    from channels.layers import get_channel_layer

    server = RedisProcess(free_port(), tmp_path)
    server.start()
    layer_at(server.url)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("encoder.enc-1", channel)
    receiving = asyncio.ensure_future(layer.receive(channel))
    try:
        with caplog.at_level(logging.INFO, logger="channels_redis"):
            server.kill()
            await asyncio.sleep(3.5)  # the layer retries every second
            server.start()
            await asyncio.sleep(1.5)  # ...and subscribes again
            assert await socket_orders.token_revoked("enc-1") is True
            message = await asyncio.wait_for(receiving, timeout=3)
    finally:
        receiving.cancel()
        await layer.flush()
        server.stop()

    assert (message["type"], message["code"], message["reason"]) == ("control.close", 4403, "token revoked")
    lines = [(r.levelname, r.getMessage().split(":")[0], r.exc_info) for r in caplog.records]
    assert lines == [("WARNING", "the control plane lost redis, retrying every second", None)], lines


async def test_an_encoder_socket_without_the_layer_is_refused_with_4503(layer_at):
    [token] = await tokens_for(1)
    layer_at(f"redis://127.0.0.1:{free_port()}/0")  # the layer's Redis is away, the store's is not

    communicator = await encoder_socket(token)

    assert await closed(communicator) == (4503, "live state store unreachable")
    await communicator.disconnect()
