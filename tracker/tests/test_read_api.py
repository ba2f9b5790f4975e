from testing.client import AsyncClient
from testing.factories import report


def hls(url: str, clients: int, bitrate: int = 1000, fmt: str = "hls") -> dict:
    return {"format": fmt, "quality": "hd", "url": url, "clients": clients, "bitrate": bitrate}


async def test_room_list_has_every_configured_room_in_order(async_client):
    body = (await async_client.get("/tracker/api/rooms")).json()

    assert [r["name"] for r in body["rooms"]] == ["example", "hall-2"]
    assert body["rooms"][1] == {
        "name": "hall-2",
        "title": "hall-2",
        "live": False,
        "state": "off-air",  # the room's truth as viewers get it (tracker/live/room_state.py)
        "viewers": 0,
        "streams": [],
        "info": {"preview-interval": 10},
        "message": None,  # none from the crew
        "now": None,
        "next": None,
    }
    assert body["version"] == 0


async def test_room_detail_lists_live_endpoints_with_stats(async_client):
    await report("example", "a", hls("https://a/x.m3u8", 4))
    await report("example", "b", hls("https://b/x.m3u8", 6))

    body = (await async_client.get("/tracker/api/rooms/example")).json()

    assert body["live"] is True
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


async def test_stream_spreads_viewers_arriving_between_heartbeats(async_client):
    await report("example", "a", hls("https://a/x.m3u8", 10))
    await report("example", "b", hls("https://b/x.m3u8", 13))

    picks = [(await async_client.get("/tracker/api/rooms/example/stream")).json()["url"] for _ in range(9)]

    # a had 3 fewer clients: it takes the first 3, then they alternate.
    assert picks[:3] == ["https://a/x.m3u8"] * 3
    assert picks[3:].count("https://a/x.m3u8") == 3
    assert picks[3:].count("https://b/x.m3u8") == 3


async def test_stream_assignments_reset_when_the_endpoint_reports(async_client):
    await report("example", "a", hls("https://a/x.m3u8", 0))
    await report("example", "b", hls("https://b/x.m3u8", 1))
    for _ in range(5):
        await async_client.get("/tracker/api/rooms/example/stream")  # a: 0+3 assigned, b: 1+2

    await report("example", "a", hls("https://a/x.m3u8", 0, bitrate=999))  # a's new report: 0 clients
    pick = (await async_client.get("/tracker/api/rooms/example/stream")).json()

    assert pick["url"] == "https://a/x.m3u8"


async def test_stream_filters_by_quality(async_client):
    await report("example", "a", hls("https://a/hd.m3u8", 0), {**hls("https://a/sd.m3u8", 5), "quality": "sd"})

    sd = (await async_client.get("/tracker/api/rooms/example/stream?quality=sd")).json()
    bad = await async_client.get("/tracker/api/rooms/example/stream?quality=a%20b")

    assert sd["url"] == "https://a/sd.m3u8"
    assert (bad.status_code, bad.json()["field"]) == (400, "quality")


async def test_stream_refuses_viewers_in_the_venue(async_client, settings, use_config):
    import json

    from testing.client import AsyncClient

    use_config({"localips": ["10.73.0.0/16", "^192\\.168\\.5\\."]})
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    await report("example", "a", hls("https://a/x.m3u8", 0))
    url = "/tracker/api/rooms/example/stream"

    def get(address, forwarded=None):
        # From a connection of this address (the ASGI scope's client).
        from_address = AsyncClient(address=address)
        return from_address.get(url, headers={"X-Forwarded-For": forwarded} if forwarded else {})

    venue = await get("10.73.1.2")
    venue_by_regex = await get("192.168.5.20")
    venue_behind_proxy = await get("127.0.0.1", forwarded="10.73.9.9")
    spoofed = await get("203.0.113.5", forwarded="10.73.9.9")
    outside = await get("203.0.113.5")
    check = (await async_client.get("/tracker/api/venue?address=10.73.4.4")).json()

    assert [r.status_code for r in (venue, venue_by_regex, venue_behind_proxy)] == [403, 403, 403]
    assert json.loads(venue.content)["error"] == "in_room"
    assert [spoofed.status_code, outside.status_code] == [200, 200]
    assert check == {"address": "10.73.4.4", "venue": True}  # the frontend, on this machine, asks for a viewer


async def test_a_client_may_look_up_only_its_own_address(redis):
    outsider = AsyncClient(address="203.0.113.5")

    other = await outsider.get("/tracker/api/venue?address=10.73.4.4")
    own = await outsider.get("/tracker/api/venue")

    assert other.status_code == 403 and other.json()["field"] == "address"
    assert own.json() == {"address": "203.0.113.5", "venue": False}
