"""Transports against local servers: the websocket, HTTP, the fallback, and legacy form posts."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from tracker.agent.backoff import Backoff
from tracker.agent.transports import (
    AuthRejected,
    HttpTransport,
    LegacyTransport,
    Rejected,
    Unreachable,
    WebsocketTransport,
    WebsocketWithFallback,
)

from .servers import TOKEN, Answer, Request, json_answer

BODY = {
    "room": "example",
    "encoder": "cam-1",
    "interval": 10,
    "streams": [
        {"format": "hls", "url": "https://cdn.example.org/a.m3u8", "quality": "hd", "clients": 4, "bitrate": 9}
    ],
    "metrics": {"errors": []},
}


def test_websocket_sends_frames_with_bearer_header_and_reads_acks(ws_tracker):
    ws_tracker.answer = lambda frame: {"ok": True, "next": 15}
    transport = WebsocketTransport(ws_tracker.url, TOKEN, timeout=2)

    acks = [transport.send(BODY), transport.send(BODY)]
    transport.close()

    assert [ack.next for ack in acks] == [15, 15]
    assert ws_tracker.frames == [BODY, BODY]
    assert ws_tracker.paths == ["/tracker/ws/encoder/"]  # one connection, no token in the URL


def test_websocket_wrong_token_close_4403_is_auth_rejected(ws_tracker):
    transport = WebsocketTransport(ws_tracker.url, "wrong-token", timeout=2)

    with pytest.raises(AuthRejected, match="closed 4403 token not accepted"):
        transport.send(BODY)


def test_websocket_error_frame_is_rejected_with_its_field(ws_tracker):
    ws_tracker.answer = lambda frame: {
        "ok": False,
        "error": "invalid",
        "message": "must be from 1 to 300",
        "field": "interval",
    }
    transport = WebsocketTransport(ws_tracker.url, TOKEN, timeout=2)

    with pytest.raises(Rejected, match="invalid interval: must be from 1 to 300") as caught:
        transport.send(BODY)
    transport.close()

    assert caught.value.field == "interval"
    assert not isinstance(caught.value, AuthRejected)


def test_websocket_tracker_down_is_unreachable(ws_tracker):
    url = ws_tracker.url
    ws_tracker.stop()

    with pytest.raises(Unreachable, match=r"cannot reach ws://127\.0\.0\.1"):
        WebsocketTransport(url, TOKEN, timeout=2).send(BODY)


def test_websocket_reconnects_when_its_connection_dropped(ws_tracker):
    transport = WebsocketTransport(ws_tracker.url, TOKEN, timeout=2)
    transport.send(BODY)
    ws_tracker.stop()
    ws_tracker.start()  # same port: a restarted tracker

    transport.send(BODY)
    transport.close()

    assert len(ws_tracker.paths) == 2 and len(ws_tracker.frames) == 2


def test_http_sends_token_in_header_never_in_url(status_server):
    status_server.routes["/tracker/api/heartbeat"] = json_answer(200, {"ok": True, "next": 7})

    ack = HttpTransport(status_server.url, TOKEN, timeout=2).send(BODY)

    (request,) = status_server.requests
    assert ack.next == 7
    assert request.path == "/tracker/api/heartbeat"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.body) == BODY


@pytest.mark.parametrize(
    "answer, kind, reason",
    [
        (
            json_answer(403, {"error": "forbidden", "message": "token not accepted", "field": "Authorization"}),
            AuthRejected,
            "HTTP 403 forbidden",
        ),
        (
            json_answer(404, {"error": "unknown_room", "message": "no room named 'x'", "field": "room"}),
            Rejected,
            "HTTP 404 unknown_room room: no room",
        ),
        (Answer(502, b"<html>bad gateway</html>", "text/html"), Unreachable, "HTTP 502"),
        (Answer(429, b"", "text/plain"), Unreachable, "HTTP 429"),
        (json_answer(409, {"error": "busy", "message": "heartbeats racing each other"}), Unreachable, "HTTP 409"),
        (Answer(301, b"", "text/plain", {"Location": "https://elsewhere.example/"}), Rejected, "redirects to https"),
    ],
)
def test_http_answers_map_to_failures(status_server, answer, kind, reason):
    status_server.routes["/tracker/api/heartbeat"] = answer

    with pytest.raises(kind, match=reason) as caught:
        HttpTransport(status_server.url, TOKEN, timeout=2).send(BODY)

    assert type(caught.value) is kind


def test_fallback_uses_http_when_tracker_has_no_websocket(status_server):
    # The status server answers the websocket handshake with 404, like a tracker without the endpoint.
    status_server.routes["/tracker/api/heartbeat"] = json_answer(200, {"ok": True, "next": 10})
    clock = [0.0]
    transport = WebsocketWithFallback(
        WebsocketTransport(status_server.url, TOKEN, timeout=2),
        HttpTransport(status_server.url, TOKEN, timeout=2),
        clock=lambda: clock[0],
        retry=Backoff(base=30, cap=600, rng=lambda: 1.0),
    )

    transport.send(BODY)
    transport.send(BODY)  # within 30 s: HTTP only, no new handshake
    clock[0] = 31.0
    transport.send(BODY)  # retried the websocket, then HTTP again

    paths = [r.path for r in status_server.requests]
    assert paths == [
        "/tracker/ws/encoder/",
        "/tracker/api/heartbeat",
        "/tracker/api/heartbeat",
        "/tracker/ws/encoder/",
        "/tracker/api/heartbeat",
    ]
    assert transport.name == "http"
    assert transport.websocket_error == "websocket handshake refused with HTTP 404"


def test_fallback_prefers_websocket_when_it_works(ws_tracker, status_server):
    transport = WebsocketWithFallback(
        WebsocketTransport(ws_tracker.url, TOKEN, timeout=2), HttpTransport(status_server.url, TOKEN, timeout=2)
    )

    transport.send(BODY)
    transport.close()

    assert transport.name == "websocket" and ws_tracker.frames == [BODY]
    assert status_server.requests == []


def legacy_register(request: Request) -> Answer:
    form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
    if form["secret"] != TOKEN:
        return Answer(403, b"ERROR SECRET", "text/plain")
    return Answer(200, b"OK", "text/plain")


def test_legacy_posts_the_original_names_with_bandwidth_and_computed_bitrate(status_server):
    status_server.routes["/tracker/endpoint/register"] = legacy_register
    body = {
        **BODY,
        "streams": [
            {"format": "webm", "url": "https://a/hd.webm", "quality": "hd", "clients": 4, "bitrate": 2000},
            {"format": "webm", "url": "https://b/hd.webm", "quality": "hd", "clients": 1, "bitrate": 2000},
            {"format": "webm", "url": "https://a/sd.webm", "quality": "low", "clients": 0, "bitrate": 900},
            {"format": "audio", "url": "https://a/main.mp3", "clients": 2, "bitrate": 128, "bandwidth": 300},
            {"format": "audio", "url": "https://a/main.opus", "clients": 1, "bitrate": 96},
            # No original name: counted in the overall figures only (the old tracker refuses other keys).
            {"format": "hls", "url": "https://a/hd.m3u8", "quality": "hd", "clients": 3, "bitrate": 1000},
        ],
    }

    LegacyTransport(status_server.url, TOKEN, timeout=2).send(body)

    (request,) = status_server.requests
    form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
    assert request.path == "/tracker/endpoint/register"
    assert form["secret"] == TOKEN and form["group"] == "example"
    assert json.loads(form["data"]) == {
        "overall_clients": 11,
        "overall_bitrate": 10000 + 300 + 96 + 3000,
        "overall_cbitrate": 10000 + 256 + 96 + 3000,
        "webm_high_clients": 5,
        "webm_high_bitrate": 10000,
        "webm_high_cbitrate": 10000,
        "webm_low_clients": 0,
        "webm_low_bitrate": 0,
        "webm_low_cbitrate": 0,
        "mp3_high_clients": 2,
        "mp3_high_bitrate": 300,  # measured bandwidth
        "mp3_high_cbitrate": 256,  # clients x bitrate
        "ogg_high_clients": 1,
        "ogg_high_bitrate": 96,
        "ogg_high_cbitrate": 96,
    }


def test_legacy_wrong_secret_is_auth_rejected(status_server):
    status_server.routes["/tracker/endpoint/register"] = legacy_register

    with pytest.raises(AuthRejected, match="ERROR SECRET"):
        LegacyTransport(status_server.url, "wrong", timeout=2).send(BODY)


def test_backoff_doubles_with_jitter_up_to_the_cap():
    assert [Backoff(base=1, cap=8, rng=lambda: 1.0).next() for _ in range(1)] == [1.0]
    top = Backoff(base=1, cap=8, rng=lambda: 1.0)
    assert [top.next() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    bottom = Backoff(base=1, cap=8, rng=lambda: 0.0)
    assert [bottom.next() for _ in range(5)] == [0.5, 1, 2, 4, 4]
    bottom.reset()
    assert bottom.next() == 0.5
