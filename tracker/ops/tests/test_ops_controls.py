"""Operators' acknowledgements, silences and notes, and viewers' reports, over real sockets."""

import json
import time

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from testing.client import AsyncClient
from testing.factories import report, stream
from tracker.encoders import ingest, store
from tracker.routing import websocket_application

STREAM = stream(clients=2, bitrate=10)
HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


async def operator(username: str) -> WebsocketCommunicator:
    """A logged-in operator's /ws/ops/ socket, its snapshot already read."""
    user = await sync_to_async(get_user_model().objects.create_user)(username, password="pw-for-tests", is_staff=True)
    client = AsyncClient()
    await client.aforce_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(websocket_application, "/ws/ops/", headers=[*HEADERS, (b"cookie", cookie)])
    assert (await communicator.connect())[0]
    assert json.loads(await communicator.receive_from(timeout=3))["type"] == "snapshot"
    return communicator


async def next_of_type(communicator: WebsocketCommunicator, kind: str) -> dict:
    while True:
        message = json.loads(await communicator.receive_from(timeout=3))
        if message["type"] == kind:
            return message


async def down_encoder() -> None:
    now = time.time()
    await report("example", "cam", STREAM, now=now - 30)
    await ingest.sweep(store.get_redis(), now=now - 19)
    await ingest.sweep(store.get_redis(), now=now - 18)


async def test_acknowledgement_reaches_every_operator_and_the_log(transactional_db):
    await down_encoder()
    alice, bob = await operator("alice"), await operator("bob")

    await alice.send_to(text_data=json.dumps({"type": "ack", "room": "example", "name": "cam"}))
    seen_by_alice, seen_by_bob = await next_of_type(alice, "control"), await next_of_type(bob, "control")
    await bob.send_to(text_data=json.dumps({"type": "snapshot"}))
    snapshot = await next_of_type(bob, "snapshot")

    assert seen_by_alice == seen_by_bob
    assert seen_by_bob["field"] == "ack:example/cam"
    assert (seen_by_bob["value"]["by"], seen_by_bob["value"]["state"]) == ("alice", "down")
    assert snapshot["controls"]["ack:example/cam"]["by"] == "alice"
    assert snapshot["logs"]["example"][0] == seen_by_bob["entry"]
    assert snapshot["logs"]["example"][0]["kind"] == "ack"
    for communicator in (alice, bob):
        await communicator.disconnect()


async def test_acknowledging_a_healthy_encoder_is_refused_to_that_operator_only(transactional_db):
    await report("example", "cam", STREAM, now=time.time())
    alice = await operator("alice")

    await alice.send_to(text_data=json.dumps({"type": "ack", "room": "example", "name": "cam"}))
    answer = json.loads(await alice.receive_from(timeout=3))

    assert answer == {"type": "refused", "message": "name: this encoder has no problem to acknowledge"}
    assert await store.get_redis().hgetall(store.key("ops", "controls")) == {}
    await alice.disconnect()


async def test_silence_and_note_are_pushed_and_ending_them_clears_them(transactional_db):
    await report("example", "cam", STREAM, now=time.time())
    alice, bob = await operator("alice"), await operator("bob")

    await alice.send_to(text_data=json.dumps({"type": "silence", "room": "example", "minutes": 30}))
    silenced = await next_of_type(bob, "control")
    await alice.send_to(text_data=json.dumps({"type": "note", "room": "example", "name": "cam", "text": " spare "}))
    noted = await next_of_type(bob, "control")
    await alice.send_to(text_data=json.dumps({"type": "silence", "room": "example", "minutes": 0}))
    ended = await next_of_type(bob, "control")

    assert silenced["field"] == "silence:example"
    assert round(silenced["value"]["until"] - silenced["value"]["at"]) == 1800
    assert (noted["field"], noted["value"]["text"], noted["value"]["by"]) == ("note:example/cam", "spare", "alice")
    assert (ended["field"], ended["value"], ended["entry"]["kind"]) == ("silence:example", None, "unsilence")
    for communicator in (alice, bob):
        await communicator.disconnect()


async def test_bad_operator_actions_are_refused_with_the_field(transactional_db):
    await report("example", "cam", STREAM, now=time.time())
    alice = await operator("alice")
    answers = []

    for request in (
        {"type": "silence", "room": "nowhere", "minutes": 5},
        {"type": "silence", "room": "example", "minutes": -1},
        {"type": "silence", "room": "example", "minutes": True},
        {"type": "note", "room": "example", "name": "cam", "text": "x" * 501},
        # Bytes as sent, not characters: 42 astral characters are 504 bytes escaped.
        {"type": "note", "room": "example", "name": "cam", "text": "\U0001f4a9" * 42},
        {"type": "note", "room": "example", "name": "no-such-encoder", "text": "x"},
        {"type": "silence", "room": "example", "name": "no-such-encoder", "minutes": 5},
        {"type": "ack", "room": "example", "name": "x" * 65},
    ):
        await alice.send_to(text_data=json.dumps(request))
        answers.append(json.loads(await alice.receive_from(timeout=3))["message"].split(":")[0])

    assert answers == ["room", "minutes", "minutes", "text", "text", "name", "name", "name"]
    assert await store.get_redis().hgetall(store.key("ops", "controls")) == {}
    await alice.disconnect()


async def test_operator_socket_closes_oversized_frames_and_floods_with_4xxx(transactional_db):
    alice = await operator("alice")
    await alice.send_to(text_data=json.dumps({"type": "note", "room": "example", "name": "x" * 900_000, "text": ""}))
    output = await alice.receive_output(timeout=3)
    assert (output["type"], output["code"]) == ("websocket.close", 4413)

    bob = await operator("bob")
    for _ in range(100):
        await bob.send_to(text_data=json.dumps({"type": "ping"}))
    pongs = 0
    while (output := await bob.receive_output(timeout=3))["type"] != "websocket.close":
        pongs += 1
    assert output["code"] == 4429
    assert pongs < 100


async def test_one_operator_holds_a_bounded_number_of_sockets(transactional_db):
    from tracker.ops.operator_socket import SOCKETS_PER_OPERATOR

    user = await sync_to_async(get_user_model().objects.create_user)("many", password="pw-for-tests", is_staff=True)
    client = AsyncClient()
    await client.aforce_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    sockets = []
    for _ in range(SOCKETS_PER_OPERATOR + 1):
        socket = WebsocketCommunicator(websocket_application, "/ws/ops/", headers=[*HEADERS, (b"cookie", cookie)])
        await socket.connect()
        sockets.append((socket, await socket.receive_output(timeout=3)))

    assert [output["type"] for _, output in sockets[:-1]] == ["websocket.send"] * SOCKETS_PER_OPERATOR
    assert (sockets[-1][1]["type"], sockets[-1][1]["code"]) == ("websocket.close", 4429)
    for socket, _ in sockets:
        await socket.disconnect()


async def test_a_note_left_on_an_encoder_since_removed_can_still_be_removed(transactional_db):
    await report("example", "cam", STREAM, now=time.time())
    alice = await operator("alice")
    await alice.send_to(text_data=json.dumps({"type": "note", "room": "example", "name": "cam", "text": "spare"}))
    await next_of_type(alice, "control")
    await store.remove_encoder(store.get_redis(), "example", "cam")
    await alice.send_to(text_data=json.dumps({"type": "snapshot"}))
    snapshot = await next_of_type(alice, "snapshot")
    assert snapshot["controls"] == {}  # the snapshot holds what exists

    await alice.send_to(text_data=json.dumps({"type": "note", "room": "example", "name": "cam", "text": ""}))
    removed = await next_of_type(alice, "control")
    assert (removed["field"], removed["value"]) == ("note:example/cam", None)
    assert await store.get_redis().hgetall(store.key("ops", "controls")) == {}
    await alice.disconnect()


async def live_socket() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(websocket_application, "/ws/live/", headers=HEADERS)
    assert (await communicator.connect())[0]
    await communicator.receive_from(timeout=3)  # the snapshot
    return communicator


VIEWER_REPORT = {
    "type": "report",
    "room": "example",
    "tab": "tab-0123456789",
    "format": "hls",
    "endpoint": "https://cdn.example/example/hls_hd.m3u8",
    "error": "manifestLoadError",
    "browser": "Firefox 133",
    "text": "black picture since the break",
}


async def test_viewer_report_reaches_operators_once_per_ten_seconds(transactional_db):
    alice = await operator("alice")
    viewer = await live_socket()

    await viewer.send_to(text_data=json.dumps(VIEWER_REPORT))
    pushed = await next_of_type(alice, "report")
    await viewer.send_to(text_data=json.dumps({**VIEWER_REPORT, "text": "again"}))  # too soon: dropped
    await alice.send_to(text_data=json.dumps({"type": "snapshot"}))
    snapshot = await next_of_type(alice, "snapshot")
    await alice.send_to(text_data=json.dumps({"type": "reports", "room": "example"}))
    page = await next_of_type(alice, "reports")

    expected = {k: v for k, v in VIEWER_REPORT.items() if k != "type"}
    assert {k: v for k, v in pushed["report"].items() if k not in ("at", "first", "count")} == expected
    assert pushed["report"]["count"] == 1
    assert snapshot["reports"] == {"example": 1, "hall-2": 0}  # counts only: reports come page by page
    assert (page["total"], page["entries"]) == (1, [[pushed["id"], pushed["report"]]])
    await viewer.disconnect()
    await alice.disconnect()


async def test_one_clients_reports_merge_with_a_count_across_reconnects(transactional_db):
    alice = await operator("alice")
    for text in ("first", "second"):
        viewer = await live_socket()  # a new socket: the per-socket wait does not apply
        await viewer.send_to(text_data=json.dumps({**VIEWER_REPORT, "text": text}))
        pushed = await next_of_type(alice, "report")
        await viewer.disconnect()
    await alice.send_to(text_data=json.dumps({"type": "reports", "room": "example"}))
    page = await next_of_type(alice, "reports")

    assert (pushed["report"]["text"], pushed["report"]["count"]) == ("second", 2)
    assert page["total"] == 1 and page["entries"][0][1]["count"] == 2
    await alice.disconnect()


async def test_bad_viewer_report_closes_with_the_field(transactional_db):
    viewer = await live_socket()

    await viewer.send_to(text_data=json.dumps({**VIEWER_REPORT, "error": "x" * 301}))
    output = await viewer.receive_output(timeout=3)

    assert (output["type"], output["code"]) == ("websocket.close", 4400)
    assert output["reason"].startswith("error:")


async def test_ops_ping_is_answered_on_that_socket_only(transactional_db):
    alice, bob = await operator("alice"), await operator("bob")

    await alice.send_to(text_data=json.dumps({"type": "ping"}))
    answer = json.loads(await alice.receive_from(timeout=3))

    assert answer == {"type": "pong"}
    assert await bob.receive_nothing(timeout=0.3)
    for communicator in (alice, bob):
        await communicator.disconnect()


async def viewer_socket() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(websocket_application, "/ws/live/", headers=HEADERS)
    assert (await communicator.connect())[0]
    assert json.loads(await communicator.receive_from(timeout=3))["type"] == "snapshot"
    return communicator


async def test_a_message_to_viewers_reaches_their_pages_and_is_logged_with_who_and_when(transactional_db):
    alice, viewer = await operator("alice"), await viewer_socket()
    text = "Technical difficulties, back in a few minutes"

    sent = time.monotonic()
    await alice.send_to(text_data=json.dumps({"type": "message", "room": "example", "text": text}))
    room = await next_of_type(viewer, "room")
    took = time.monotonic() - sent
    logged = await next_of_type(alice, "control")

    assert room["room"]["name"] == "example"
    assert room["room"]["message"]["text"] == text
    assert "by" not in room["room"]["message"]  # operators' names stay with operators
    assert took < 1
    assert logged["field"] == "message:example"
    assert (logged["entry"]["kind"], logged["entry"]["by"], logged["entry"]["text"]) == ("message", "alice", text)

    await alice.send_to(text_data=json.dumps({"type": "message", "room": "example", "text": ""}))
    cleared = await next_of_type(viewer, "room")
    assert cleared["room"]["message"] is None
    assert (await next_of_type(alice, "control"))["value"] is None
    for communicator in (alice, viewer):
        await communicator.disconnect()


async def test_a_message_to_viewers_is_bounded_and_refused_in_words(transactional_db):
    alice = await operator("alice")
    for request, field in (
        ({"type": "message", "room": "example", "text": "x" * 281}, "text"),
        ({"type": "message", "room": "example", "text": "😀" * 251}, "text"),  # 251 characters, 1004 bytes
        ({"type": "message", "room": "nowhere", "text": "hi"}, "room"),
        ({"type": "message", "room": "example", "text": 5}, "text"),
    ):
        await alice.send_to(text_data=json.dumps(request, ensure_ascii=False))  # under the 2 KB frame limit
        refused = await next_of_type(alice, "refused")
        assert refused["message"].startswith(f"{field}:"), refused
    await alice.disconnect()
