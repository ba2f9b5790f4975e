"""Translated streams (issue 15, item 4): encoders report a stream's language;
viewers see it and the stream API picks by it."""

import json

from testing.factories import report


async def test_a_translation_carries_its_language_and_is_picked_by_it(async_client):
    original = {"format": "webm", "quality": "hd", "url": "https://cdn.example/en.webm", "clients": 0, "bitrate": 1}
    german = {**original, "url": "https://cdn.example/de.webm", "language": "de"}
    await report("example", "e", original, german)

    rooms = (await async_client.get("/tracker/api/rooms")).json()["rooms"]
    streams = next(room for room in rooms if room["name"] == "example")["streams"]
    assert {"format": "webm", "quality": "hd", "url": "https://cdn.example/de.webm", "language": "de"} in streams
    assert {"format": "webm", "quality": "hd", "url": "https://cdn.example/en.webm"} in streams

    path = "/tracker/api/rooms/example/stream?format=webm&quality=hd"
    assert (await async_client.get(path + "&language=de")).json()["url"] == "https://cdn.example/de.webm"
    assert (await async_client.get(path)).json()["url"] == "https://cdn.example/en.webm"
    bad = await async_client.get(path + "&language=<x>")
    assert bad.status_code == 400 and bad.json()["field"] == "language"


async def test_a_heartbeat_with_a_bad_language_names_the_field(async_client, encoder_token):
    stream = {"format": "webm", "url": "https://cdn.example/a.webm", "clients": 0, "bitrate": 1, "language": "Deutsch!"}
    body = {"room": "example", "encoder": "enc-1", "interval": 10, "streams": [stream]}
    response = await async_client.post(
        "/tracker/api/heartbeat",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {encoder_token}"},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "streams[0].language"
