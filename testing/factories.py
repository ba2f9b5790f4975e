"""Test data and shortcuts the tests share: a stream, a heartbeat's body, the
test rooms, and storing or posting a heartbeat. Valid unless told otherwise,
so a test names only what it is about."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

# The rooms of tracker/tests/config, in config order.
ROOMS = ("example", "hall-2")


def stream(url: str = "https://a/x.m3u8", *, format: str = "hls", clients: int = 1, bitrate: int = 1, **fields: Any):
    """One stream of a heartbeat (add quality=, language=, ... as needed)."""
    return {"format": format, "url": url, "clients": clients, "bitrate": bitrate, **fields}


def heartbeat(*streams: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A heartbeat's JSON body from enc-1 in room "example", with one stream unless given."""
    return {"room": "example", "encoder": "enc-1", "streams": list(streams) or [stream()], **fields}


async def report(
    room: str, encoder: str, *streams: dict, interval: int = 10, now: float | None = None, metrics: dict | None = None
) -> None:
    """Store a heartbeat the way the API does, skipping HTTP and tokens (needs the `redis` fixture)."""
    from tracker.encoders import ingest, store
    from tracker.encoders.heartbeat import Heartbeat
    from tracker.encoders.state_machine import Identity

    identity = Identity(name=encoder, room=room, role="encoder", grace=1)
    beat = Heartbeat(room=room, encoder=encoder, interval=interval, streams=list(streams), metrics=metrics or {})
    await ingest.accept(store.get_redis(), identity=identity, beat=beat, now=time.time() if now is None else now)


async def published(pubsub) -> list[dict]:
    """Every message a subscription gets within half a second (subscribe acks read as None)."""
    messages = []
    deadline = asyncio.get_running_loop().time() + 0.5
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(timeout=0.1)
        if message is not None:
            messages.append(json.loads(message["data"]))
    return messages


def post_heartbeat(base_url: str, body: dict, *, token: str) -> dict:
    """POST a heartbeat to a running site (daphne) and read its JSON answer."""
    request = urllib.request.Request(
        base_url + "/tracker/api/heartbeat",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)
