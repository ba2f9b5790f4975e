"""Redis stops and comes back: the API answers 503 quickly, browsers are told
"reconnecting", and everything recovers by itself once encoders report again."""

import json
import time
import urllib.error

from websockets.sync.client import connect

from testing.factories import heartbeat, post_heartbeat, stream
from testing.processes import RedisProcess, free_port, running, wait_for

STREAM = stream("https://cdn.example/a.webm", format="webm", clients=0)
BEAT = heartbeat(STREAM, encoder="cam-1", interval=30)


def heartbeat_status(url: str, token: str) -> int:
    try:
        post_heartbeat(url, BEAT, token=token)
        return 200
    except urllib.error.HTTPError as exc:
        return exc.code


def next_message(socket, *, kind: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == kind:
            return message


def test_redis_outage_gives_503_then_recovers_from_reports(site_env, tmp_path):
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    try:
        with running({**site_env, "REDIS_URL": server.url}, tmp_path) as site:
            token = site.add_encoder("example", "cam-1")
            with connect(site.url.replace("http", "ws") + "/ws/live/", origin=site.url, open_timeout=5) as socket:
                next_message(socket, kind="snapshot")
                before = heartbeat_status(site.url, token)

                server.stop()
                started = time.monotonic()
                during = heartbeat_status(site.url, token)
                answered_in = time.monotonic() - started
                told = next_message(socket, kind="status")

                server.start()  # back, with what its append-only file kept
                wait_for(lambda: heartbeat_status(site.url, token) == 200, timeout=15, what="heartbeats accepted")
                resync = next_message(socket, kind="snapshot")
                live = {room["name"]: room["live"] for room in resync["rooms"]}
                if not live["example"]:  # the snapshot came before the report: then the change follows
                    live["example"] = next_message(socket, kind="room")["room"]["live"]
    finally:
        server.stop()

    assert (before, during) == (200, 503)
    assert answered_in < 3
    assert told == {"type": "status", "state": "reconnecting"}
    assert live["example"] is True
