from conftest import report


def hls(url: str, clients: int, bitrate: int = 1000, fmt: str = "hls") -> dict:
    return {"format": fmt, "quality": "hd", "url": url, "clients": clients, "bitrate": bitrate}


async def test_room_list_has_every_configured_room_in_order(async_client):
    body = (await async_client.get("/tracker/api/rooms")).json()

    assert [r["name"] for r in body["rooms"]] == ["example", "hall-2"]
    assert body["rooms"][1] == {"name": "hall-2", "title": "hall-2", "live": False, "clients": 0, "streams": []}
    assert body["version"] == 0


async def test_room_detail_lists_live_endpoints_with_stats(async_client):
    await report("example", "a", hls("https://a/x.m3u8", 4))
    await report("example", "b", hls("https://b/x.m3u8", 6))

    body = (await async_client.get("/tracker/api/rooms/example")).json()

    assert body["live"] is True
    assert body["clients"] == 10
    assert [(e["encoder"], e["streams"][0]["clients"]) for e in body["endpoints"]] == [("a", 4), ("b", 6)]


async def test_room_detail_unknown_room_is_404_json(async_client):
    response = await async_client.get("/tracker/api/rooms/nowhere")

    assert response.status_code == 404
    assert response.json()["field"] == "room"


async def test_stream_picks_least_loaded_endpoint(async_client):
    await report("example", "a", hls("https://a/x.m3u8", 9))
    await report("example", "b", hls("https://b/x.m3u8", 2))
    await report("example", "c", hls("https://c/x.m3u8", 2, bitrate=500), hls("https://c/x.webm", 0, fmt="webm"))

    any_format = (await async_client.get("/tracker/api/rooms/example/stream")).json()
    hls_only = (await async_client.get("/tracker/api/rooms/example/stream?format=hls")).json()

    assert any_format["url"] == "https://c/x.webm"
    assert hls_only == {"format": "hls", "quality": "hd", "url": "https://c/x.m3u8"}


async def test_stream_of_offline_room_is_404(async_client):
    response = await async_client.get("/tracker/api/rooms/example/stream")

    assert response.status_code == 404
    assert response.json()["error"] == "no_stream"


async def test_stream_of_missing_format_is_404_and_bad_format_400(async_client):
    await report("example", "a", hls("https://a/x.m3u8", 1))

    missing = await async_client.get("/tracker/api/rooms/example/stream?format=webm")
    bad = await async_client.get("/tracker/api/rooms/example/stream?format=<script>")

    assert missing.status_code == 404
    assert (bad.status_code, bad.json()["field"]) == (400, "format")


async def test_encoder_without_public_streams_does_not_make_room_live(async_client):
    await report("example", "mixer")

    body = (await async_client.get("/tracker/api/rooms/example")).json()

    assert body["live"] is False
    assert [e["encoder"] for e in body["endpoints"]] == ["mixer"]
