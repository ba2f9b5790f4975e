"""One client's budget of refused encoders' requests, whatever tokens it tries."""

import json

import pytest

from testing.client import AsyncClient
from testing.factories import heartbeat
from tracker.encoders import client_budget, store


@pytest.fixture
def small_budgets(monkeypatch):
    monkeypatch.setattr(client_budget, "REFUSALS", {"heartbeat": 5, "legacy": 5, "encoder-socket": 5})


async def test_made_up_tokens_from_one_client_run_out_of_budget(redis, transactional_db, small_budgets):
    guesser = AsyncClient(address="2001:db8:aa:bb::1")
    same_64 = AsyncClient(address="2001:db8:aa:bb::2")
    other = AsyncClient(address="2001:db8:aa:cc::1")
    body = json.dumps(heartbeat())

    async def post(client: AsyncClient, token: str) -> int:
        response = await client.post(
            "/tracker/api/heartbeat",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code

    guesses = [await post(guesser, f"guess-{n}") for n in range(5)]
    refused = [await post(same_64, "guess-x"), await post(guesser, "guess-y")]
    elsewhere = await post(other, "guess-z")

    assert guesses == [403] * 5
    assert refused == [429, 429]  # the /64 is one client
    assert elsewhere == 403
    # The window ends: the counter expires on Redis's clock (this Redis is 6.2, whose EXPIRE has no NX).
    counted = client_budget.counter("heartbeat", "2001:db8:aa:bb::1")
    assert 0 < await store.get_redis().ttl(counted) <= client_budget.WINDOW_SECONDS


async def test_legacy_posts_from_one_client_run_out_of_budget(redis, small_budgets):
    poster = AsyncClient(address="203.0.113.4")
    answers = [
        (await poster.post("/tracker/endpoint/register", {"secret": "guess", "group": "example"})).content
        for _ in range(7)
    ]

    assert answers[:5] == [b"ERROR SECRET\n"] * 5
    assert all(answer.startswith(b"ERROR rate_limited") for answer in answers[5:])


async def test_encoder_socket_connects_with_made_up_tokens_run_out_of_budget(redis, transactional_db, small_budgets):
    from channels.testing import WebsocketCommunicator

    from tracker.routing import websocket_application

    async def close_code(token: str) -> int:
        socket = WebsocketCommunicator(
            websocket_application, "/tracker/ws/encoder/", headers=[(b"authorization", f"Bearer {token}".encode())]
        )
        await socket.connect()
        output = await socket.receive_output(timeout=3)
        await socket.disconnect()
        return output["code"]

    codes = [await close_code(f"guess-{n}") for n in range(7)]

    assert codes == [4403] * 5 + [4429] * 2
