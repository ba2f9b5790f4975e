"""Encoder tokens: add, list, use, revoke; hashed at rest; bound to a room."""

import json
import time

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from testing.factories import report, stream
from tracker.encoders.identities import hash_token
from tracker.models import Encoder

STREAM = stream(clients=2, bitrate=10)


async def post(async_client, token, **body):
    data = {"room": "example", "encoder": "enc-1", "streams": [STREAM], **body}
    return await async_client.post(
        "/tracker/api/heartbeat",
        json.dumps(data),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_encoder_add_prints_token_once_and_stores_only_its_hash(transactional_db, capsys, redis_client):
    call_command("encoder", "add", "--room", "example", "--name", "cam-9", "--role", "mixer")

    token = capsys.readouterr().out.strip()
    encoder = Encoder.objects.get(name="cam-9")
    assert len(token) >= 40
    assert encoder.token_hash == hash_token(token)
    assert token not in json.dumps(list(Encoder.objects.values()), default=str)
    assert json.loads(redis_client.hget("streaming:tokens", encoder.token_hash))["role"] == "mixer"


def test_encoder_list_never_shows_tokens(encoder_token, capsys):
    call_command("encoder", "list")

    out = capsys.readouterr().out
    assert "example\tenc-1\tencoder" in out
    assert encoder_token not in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--room", "nowhere", "--name", "x"], "no room named 'nowhere'"),
        (["--room", "example", "--name", "bad name"], "encoder names are"),
        (["--room", "example", "--name", "enc-1"], "exists already"),
    ],
)
def test_encoder_add_refuses_bad_requests(encoder_token, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("encoder", "add", *args)


async def test_token_works_until_revoked_then_403_at_once(encoder_token, async_client):
    from asgiref.sync import sync_to_async

    before = await post(async_client, encoder_token)
    await sync_to_async(call_command)("encoder", "revoke", "enc-1")
    after = await post(async_client, encoder_token)

    assert before.status_code == 200
    assert after.status_code == 403


async def test_token_is_bound_to_its_room_and_name(encoder_token, async_client):
    other_room = await post(async_client, encoder_token, room="hall-2")
    other_name = await post(async_client, encoder_token, encoder="enc-2")

    assert (other_room.status_code, other_room.json()["field"]) == (403, "room")
    assert (other_name.status_code, other_name.json()["field"]) == (403, "encoder")


async def test_global_secret_is_no_heartbeat_token(transactional_db, async_client):
    from testing.processes import TEST_SECRET

    response = await post(async_client, TEST_SECRET)

    assert response.status_code == 403


async def test_token_lost_from_redis_is_found_in_database(encoder_token, async_client, redis_client):
    redis_client.delete("streaming:tokens")  # say, Redis restarted empty

    response = await post(async_client, encoder_token)

    assert response.status_code == 200
    assert redis_client.hexists("streaming:tokens", hash_token(encoder_token))


async def test_rate_limit_answers_429(encoder_token, async_client):
    statuses = [(await post(async_client, encoder_token)).status_code for _ in range(12)]

    assert 429 in statuses
    assert statuses.count(200) >= 5


async def test_revoked_encoder_leaves_the_dashboard(encoder_token, async_client, redis_client):
    from asgiref.sync import sync_to_async

    await post(async_client, encoder_token)

    await sync_to_async(call_command)("encoder", "revoke", "enc-1")

    assert redis_client.hget("streaming:records", "example/enc-1") is None
    assert redis_client.hgetall("streaming:room:example") == {}


async def test_a_token_missing_from_redis_is_not_looked_up_while_the_copy_exists(
    encoder_token, async_client, redis_client
):
    # A row written straight into the database, past Redis: the copy in Redis
    # is what counts, so made-up tokens never cost a database query...
    from asgiref.sync import sync_to_async

    await sync_to_async(Encoder.objects.create)(room="example", name="enc-2", token_hash=hash_token("sideways"))
    body = {"encoder": "enc-2"}

    refused = await post(async_client, "sideways", **body)
    redis_client.delete("streaming:tokens")  # ...until Redis lost its copy: then it is reloaded whole
    accepted = await post(async_client, "sideways", **body)

    assert (refused.status_code, accepted.status_code) == (403, 200)
    assert redis_client.hexists("streaming:tokens", hash_token(encoder_token))


async def test_a_copy_from_the_database_cannot_bring_a_revoked_token_back(encoder_token, redis_client):
    from asgiref.sync import sync_to_async

    from tracker.encoders import store
    from tracker.encoders.identities import copy_identities_to_redis, forget_identity

    encoder = await sync_to_async(Encoder.objects.get)(name="enc-1")
    # The revoke marked the token, and the copy read the row before it was deleted.
    await forget_identity(store.get_redis(), encoder)

    await copy_identities_to_redis(store.get_redis())

    assert not redis_client.hexists("streaming:tokens", hash_token(encoder_token))
    assert redis_client.hexists("streaming:tokens", "-")


async def test_revoked_encoders_history_expires_and_its_alert_memory_goes(encoder_token, redis_client):
    from tracker.encoders import history, store
    from tracker.encoders.identities import revoke_encoder

    await report("example", "enc-1", stream(), now=time.time())
    await history.add_points(store.get_redis(), rooms=["example"], now=time.time(), keep_hours=24)
    redis_client.hset("streaming:alerts:memory", "example/enc-1", '{"down_open": true}')
    assert redis_client.ttl("streaming:hist:enc:example/enc-1") == -1  # kept while the encoder exists

    await sync_to_async(revoke_encoder)("enc-1")

    assert redis_client.hget("streaming:records", "example/enc-1") is None
    assert 23 * 3600 < redis_client.ttl("streaming:hist:enc:example/enc-1") <= 24 * 3600  # history-hours
    assert redis_client.hget("streaming:alerts:memory", "example/enc-1") is None
    await report("example", "enc-1", stream(), now=time.time())  # the name comes back: its history is kept again
    assert redis_client.ttl("streaming:hist:enc:example/enc-1") == -1
