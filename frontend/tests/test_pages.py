from conftest import free_port, post_heartbeat, report

STREAM = {"format": "hls", "url": "https://cdn.example/a.m3u8", "clients": 1, "bitrate": 1}


async def go_live(room: str = "example") -> None:
    await report(room, "e", STREAM)


async def test_index_lists_only_live_rooms(async_client):
    await go_live("hall-2")

    html = (await async_client.get("/")).content.decode()

    assert 'data-room="hall-2"' in html
    assert 'data-room="example"' not in html
    assert 'id="no-rooms" class="empty" hidden' in html


async def test_index_without_live_rooms_says_so(async_client):
    html = (await async_client.get("/")).content.decode()

    assert "No room is live right now" in html
    assert 'id="no-rooms" class="empty" >' in html


async def test_room_page_offline_shows_slate(async_client):
    response = await async_client.get("/example")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Example Room</h1>" in html
    assert 'id="player" class="player" hidden' in html
    assert 'id="offline" class="slate" >' in html


async def test_room_page_live_shows_player(async_client):
    await go_live()

    html = (await async_client.get("/example")).content.decode()

    assert 'src="https://cdn.example/a.m3u8"' in html
    assert 'id="offline" class="slate" hidden' in html


async def test_unknown_room_is_404_page(async_client):
    response = await async_client.get("/nowhere")

    assert response.status_code == 404
    assert "There is no room called “nowhere”" in response.content.decode()


async def test_pages_answer_503_when_tracker_unreachable(async_client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = await async_client.get("/example")

    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_frontend_reads_a_tracker_on_another_address(settings, site, client):
    # The frontend only knows the tracker's public API, so it works the same
    # when the tracker is another process reached over HTTP.
    token = site.add_encoder("hall-2", "e")
    post_heartbeat(site.url, {"room": "hall-2", "encoder": "e", "interval": 30, "streams": [STREAM]}, token=token)
    settings.TRACKER_URL = site.url
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # the frontend has no Redis of its own

    html = client.get("/").content.decode()

    assert 'data-room="hall-2"' in html
