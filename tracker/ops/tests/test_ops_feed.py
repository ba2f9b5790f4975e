"""/ws/ops/ and the dashboard page: operators only, snapshot then changes."""

import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from testing.factories import ROOMS, report, stream
from tracker.encoders import ingest, store
from tracker.routing import websocket_application

STREAM = stream(clients=2, bitrate=10)


async def logged_in_cookie(client) -> bytes:
    user = await sync_to_async(get_user_model().objects.create_user)("op", password="pw-for-tests", is_staff=True)
    await sync_to_async(client.force_login)(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(websocket_application, "/ws/ops/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_ops_socket_refuses_anonymous(transactional_db):
    communicator = await connect()

    output = await communicator.receive_output(timeout=3)

    assert output["type"] == "websocket.close"
    assert output["code"] == 4401


async def test_ops_socket_sends_snapshot_then_each_record_change(transactional_db, client):
    await report("example", "cam", STREAM, now=time.time())
    communicator = await connect(await logged_in_cookie(client))

    snapshot = json.loads(await communicator.receive_from(timeout=3))
    await ingest.sweep(store.get_redis(), now=time.time() + 11)
    change = json.loads(await communicator.receive_from(timeout=3))

    assert snapshot["type"] == "snapshot"
    assert [(e["name"], e["state"]) for e in snapshot["encoders"]] == [("cam", "up")]
    assert snapshot["logs"]["example"][0]["new"] == "up"
    assert [r["name"] for r in snapshot["rooms"]] == list(ROOMS)
    assert change["version"] == snapshot["version"] + 1
    assert (change["encoder"]["state"], change["transition"]["new"]) == ("late", "late")
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.example",
        b"http://127.0.0.1:9999",  # another port of the same host
        b"https://127.0.0.1:8000",  # another scheme
        b"http://127.0.0.1:8000.evil.example",
        b"",
    ],
)
async def test_ops_socket_refuses_any_other_origin(transactional_db, origin):
    headers = [(b"host", b"127.0.0.1:8000")] + ([(b"origin", origin)] if origin else [])
    communicator = WebsocketCommunicator(websocket_application, "/ws/ops/", headers=headers)

    connected, _ = await communicator.connect()

    assert not connected


async def test_ops_socket_takes_its_exact_own_origin(transactional_db):
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
    communicator = WebsocketCommunicator(websocket_application, "/ws/ops/", headers=headers)

    connected, _ = await communicator.connect()

    assert connected  # then closed 4401 by the consumer: no login here
    assert (await communicator.receive_output(timeout=3))["code"] == 4401


def test_dashboard_page_requires_login(client, db):
    anonymous = client.get("/tracker/dashboard/")
    client.force_login(get_user_model().objects.create_user("op", password="pw", is_staff=True))
    logged_in = client.get("/tracker/dashboard/")

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/tracker/login/")
    assert logged_in.status_code == 200
    assert b"dashboard.js" in logged_in.content


def test_dashboard_page_is_for_staff_only(client, db):
    client.force_login(get_user_model().objects.create_user("viewer", password="pw"))

    response = client.get("/tracker/dashboard/")

    assert response.status_code == 403


async def test_ops_socket_refuses_a_logged_in_user_who_is_not_staff(transactional_db, client):
    user = await sync_to_async(get_user_model().objects.create_user)("viewer", password="pw-for-tests")
    await sync_to_async(client.force_login)(user)
    communicator = await connect(f"sessionid={client.cookies['sessionid'].value}".encode())

    output = await communicator.receive_output(timeout=3)

    assert (output["type"], output["code"]) == ("websocket.close", 4403)


async def test_ops_snapshot_lists_setup_problems(transactional_db, client, use_config, redis_client):
    use_config(example={"preview": "preview.jpg"})
    persistent = redis_client.config_get("appendonly")["appendonly"] == "yes" or redis_client.config_get("save")["save"]
    communicator = await connect(await logged_in_cookie(client))

    snapshot = json.loads(await communicator.receive_from(timeout=3))

    assert snapshot["setup"][0] == (
        "room 'example': key 'preview': 'preview.jpg' is not an absolute http(s) URL, so it shows nothing"
    )
    assert snapshot["setup"][1:] == (
        []
        if persistent
        else [
            "Redis keeps no data on disk (appendonly off, no save points): a Redis restart forgets every "
            "encoder's state, the logs, silences and notes"
        ]
    )
    await communicator.disconnect()
