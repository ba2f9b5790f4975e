"""A rendered page is reused while the room list it was rendered from is the one the process holds."""

import asyncio

from frontend import tracker_api
from testing.client import AsyncClient
from testing.factories import report, stream


async def remove(room: str, encoder: str) -> None:
    from tracker.encoders import store

    await store.remove_encoder(store.get_redis(), room, encoder)


async def test_the_room_page_is_reused_until_the_room_list_is_fetched_again(async_client, monkeypatch):
    await report("example", "cam", stream("https://cdn.example/a.m3u8"))
    live = (await async_client.get("/example")).content
    await remove("example", "cam")

    reused = (await async_client.get("/example")).content
    monkeypatch.setattr(tracker_api, "ROOM_LIST_SECONDS", 0.0)  # the next page asks the tracker again
    fresh = (await async_client.get("/example")).content

    assert b'data-state="example">Live</span>' in live
    assert reused == live
    assert b'data-state="example">Offline</span>' in fresh


async def test_a_reused_page_is_the_one_rendered_for_its_address_and_for_the_venue(async_client, monkeypatch):
    await report("example", "cam", stream("https://cdn.example/a.m3u8"))

    async def is_venue(address: str) -> bool:
        return address == "10.9.0.1"

    monkeypatch.setattr(tracker_api, "is_venue", is_venue)
    first = (await async_client.get("/example")).content.decode()
    secure = (await async_client.get("/example", secure=True)).content.decode()
    in_the_venue = (await AsyncClient(address="10.9.0.1").get("/example")).content.decode()
    again = (await async_client.get("/example")).content.decode()

    # The embed snippet names the page's own address.
    assert "https://testserver/example/embed" in secure and "https://testserver" not in first
    assert "<video" not in in_the_venue and "<video" in first
    assert again == first


async def test_pages_of_unknown_rooms_are_not_kept(async_client):
    await report("example", "cam", stream("https://cdn.example/a.m3u8"))
    await async_client.get("/example")

    for n in range(300):
        assert (await async_client.get(f"/nowhere-{n}")).status_code == 404

    from frontend.views import MAX_RENDERED_PAGES, _rendered

    cache = _rendered.existing()
    assert cache is not None and len(cache.pages) < MAX_RENDERED_PAGES


async def test_a_herd_of_room_page_views_asks_the_tracker_for_the_schedule_once(async_client, monkeypatch):
    await report("example", "cam", stream("https://cdn.example/a.m3u8"))
    asked = []
    get = tracker_api.get

    async def counted(path: str) -> tracker_api.Answer:
        asked.append(path)
        return await get(path)

    monkeypatch.setattr(tracker_api, "get", counted)
    at_once = await asyncio.gather(*(async_client.get("/example") for _ in range(10)))
    one_by_one = [await async_client.get("/example") for _ in range(10)]
    pages = [response.content for response in [*at_once, *one_by_one]]

    assert len(set(pages)) == 1
    assert [path for path in asked if "schedule" in path] == ["/tracker/api/rooms/example/schedule.json"]
