"""Server-rendered pages, through the site's ASGI application (testing/client.py)."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from frontend import tracker_api
from testing.client import AsyncClient
from testing.factories import post_heartbeat, report, stream
from testing.processes import free_port

STREAM = stream("https://cdn.example/a.m3u8")
NOW = {
    "guid": "1",
    "title": "Opening",
    "speakers": ["Ada", "Grace"],
    "start": "2030-01-01T10:00:00Z",
    "end": "2030-01-01T10:45:00Z",
    "url": "https://events.example/1",
    "generated": False,
    "filler": "",
}
NEXT = {**NOW, "guid": "2", "title": "Keynote", "start": "2030-01-01T11:00:00Z", "end": "2030-01-01T12:00:00Z"}
INFO = {
    "logo": "https://cdn.example/logo.png",
    "link": "https://events.example/hall",
    "irc": "ircs://irc.hackint.org:6697/#hall",
    "matrix": "#hall:matrix.org",
    "irclog": "https://log.example/hall",
    "hashtag": "hall",
    "preview": "https://cdn.example/hall.jpg",
    "preview-interval": 5,
}


def room_object(**fields):
    return {
        "name": "example",
        "title": "Example Room",
        "live": True,
        "clients": 0,
        "streams": [
            {"format": "audio", "quality": "", "url": "https://cdn.example/a.mp3"},
            {"format": "hls", "quality": "hd", "url": "https://cdn.example/hd.m3u8"},
            {"format": "webm", "quality": "hd", "url": "https://cdn.example/hd.webm"},
        ],
        "viewers": 7,
        "info": INFO,
        "now": NOW,
        "next": NEXT,
        **fields,
    }


@pytest.fixture
def rooms(monkeypatch):
    """The tracker's room list, as the test sets it."""
    listed = [room_object()]

    async def room_list():
        return listed

    monkeypatch.setattr(tracker_api, "room_list", room_list)
    return listed


@pytest.fixture
def venue_lookups(monkeypatch):
    """Addresses the frontend asks the tracker about; venue: anything in 10.9.x.x."""
    asked = []

    async def is_venue(address):
        asked.append(address)
        return address.startswith("10.9.")

    monkeypatch.setattr(tracker_api, "is_venue", is_venue)
    return asked


async def get_from(address: str, path: str, **headers: str):
    """GET as a connection from this address (REMOTE_ADDR comes from the ASGI scope's client)."""
    return await AsyncClient(address=address).get(path, headers={k.replace("_", "-"): v for k, v in headers.items()})


async def go_live(room: str = "example") -> None:
    await report(room, "e", STREAM)


async def test_index_shows_every_room_live_or_not(async_client):
    await go_live("hall-2")

    html = (await async_client.get("/")).content.decode()

    # every configured room, in config order, and the template for new ones
    assert html.count('<li class="room-card" data-room="') == 3
    assert html.index('data-room="example"') < html.index('data-room="hall-2"')
    assert 'class="state offline" data-state="example">Offline</span>' in html
    assert 'class="state live" data-state="hall-2">Live</span>' in html
    assert 'data-offline-note="example" >Not streaming right now.</p>' in html
    assert 'data-offline-note="hall-2" hidden>' in html


async def test_index_offline_room_says_when_its_next_talk_starts_once(async_client, rooms):
    rooms[0] = room_object(live=False, streams=[], now=None)

    html = (await async_client.get("/")).content.decode()
    card = html[html.index('<li class="room-card" data-room="example">') : html.index("</li>")]

    assert '<time datetime="2030-01-01T11:00:00Z" data-kind="starts">starts 11:00</time>' in card
    assert card.count("starts 11:00") == 1  # said once, by the next talk
    assert ">Not streaming right now.</p>" in card
    assert 'data-still="example"' in html and 'loading="lazy" hidden>' in html  # no still while offline


async def test_a_room_whose_talk_starts_within_half_an_hour_is_starting_soon(async_client, rooms):
    soon = datetime.now(UTC) + timedelta(minutes=20)
    rooms[0] = room_object(live=False, streams=[], now=None, next={**NEXT, "start": soon.isoformat()})

    html = (await async_client.get("/")).content.decode()

    assert '<span class="state soon" data-state="example">Starting soon</span>' in html


async def test_the_talk_on_now_has_a_progress_bar(async_client, rooms):
    start = datetime.now(UTC) - timedelta(minutes=15)
    rooms[0] = room_object(now={**NOW, "start": start.isoformat(), "end": (start + timedelta(minutes=60)).isoformat()})

    html = (await async_client.get("/")).content.decode()

    assert re.search(r'<progress class="talk" max="100" value="2[56]" ', html)


async def test_pages_carry_the_event_branding_from_the_config(async_client, use_config):
    use_config(
        {
            "event-name": "Congress 42",
            "event-logo": "https://cdn.example/logo.svg",
            "event-favicon": "https://cdn.example/favicon.png",
            "event-accent": "#aa3366",
        }
    )

    for path in ("/", "/example", "/example/schedule", "/programme", "/graphs", "/monitor"):
        html = (await async_client.get(path)).content.decode()
        logo = '<img src="https://cdn.example/logo.svg" alt="" height="32">Congress 42'
        assert f'<a href="/" class="brand">{logo}</a>' in html or f"<h1>{logo}</h1>" in html  # the wall's own bar
        assert '<link rel="icon" href="https://cdn.example/favicon.png">' in html
        assert "--brand: #aa3366;" in html
        assert "Congress 42</title>" in html, path
    icon = await async_client.get("/favicon.ico")
    assert (icon.status_code, icon["Location"]) == (302, "https://cdn.example/favicon.png")


async def test_favicon_ico_is_the_sites_own_without_the_events(async_client, settings):
    settings.SERVE_STATIC = True  # as `make serve` does; nginx serves /static/ in production
    icon = await async_client.get("/favicon.ico")
    own = await async_client.get(icon["Location"])

    assert (icon.status_code, icon["Location"]) == (302, "/static/frontend/favicon.ico")
    assert own.status_code == 200 and own.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert '<link rel="icon" href="/favicon.ico">' in (await async_client.get("/")).content.decode()


def test_a_bad_accent_colour_stops_start_up_naming_the_key(use_config):
    from tracker.config import ConfigError, get_config

    use_config({"event-accent": "red; background: url(x)"})
    with pytest.raises(ConfigError, match="event-accent"):
        get_config()


async def test_room_page_offline_shows_slate(async_client):
    response = await async_client.get("/example")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Example Room</h1>" in html
    assert 'id="player" class="player" hidden' in html
    assert 'id="offline" class="slate" >' in html


async def test_room_page_live_offers_every_format_without_javascript(async_client, rooms):
    html = (await async_client.get("/example")).content.decode()

    # <source> elements let the browser pick what it plays, HLS first, audio last.
    hls = html.index('<source src="https://cdn.example/hd.m3u8" type="application/vnd.apple.mpegurl">')
    webm = html.index('<source src="https://cdn.example/hd.webm" type="video/webm">')
    audio = html.index('<source src="https://cdn.example/a.mp3" type="audio/mpeg">')
    assert hls < webm < audio
    assert 'id="offline" class="slate" hidden' in html
    assert 'id="chooser" class="chooser" hidden' in html  # choosing needs JavaScript


async def test_room_page_shows_extras_from_config(async_client, rooms):
    html = (await async_client.get("/example")).content.decode()

    assert '<img class="logo" src="https://cdn.example/logo.png"' in html
    assert '<a href="https://events.example/hall">About this room</a>' in html
    assert 'IRC: <a href="ircs://irc.hackint.org:6697/#hall">#hall</a>' in html
    assert 'Matrix: <a href="https://matrix.to/#/%23hall:matrix.org">#hall:matrix.org</a>' in html
    assert '<iframe class="irclog" src="https://log.example/hall"' in html
    assert '<a href="https://mastodon.social/tags/hall">#hall</a>' in html
    assert '<a href="/example/schedule">Programme</a>' in html
    assert ">7 watching</span>" in html


async def test_room_page_refuses_script_links_from_config(async_client, rooms):
    rooms[0] = room_object(info={"link": "javascript:alert(1)", "irclog": "javascript:alert(2)"})
    rooms[0]["now"] = {**NOW, "url": "javascript:alert(3)"}

    html = (await async_client.get("/example")).content.decode()

    assert "javascript:" not in html
    assert '<a class="title">Opening</a>' in html  # not a link


async def test_now_and_next_render_in_the_events_time_zone_for_the_script_to_localize(async_client, rooms):
    html = (await async_client.get("/example")).content.decode()

    assert '<a class="title" href="https://events.example/1">Opening</a>' in html
    assert '<span class="speakers">Ada, Grace</span>' in html
    assert '<time datetime="2030-01-01T10:45:00Z" data-kind="ends">ends 10:45</time>' in html
    assert '<time datetime="2030-01-01T11:00:00Z" data-kind="starts">starts 11:00</time>' in html
    index = (await async_client.get("/")).content.decode()
    assert 'data-kind="ends">ends 10:45</time>' in index


async def test_pages_without_the_new_room_fields_still_render(async_client, rooms):
    rooms[0] = {key: value for key, value in room_object().items() if key not in {"info", "now", "next", "viewers"}}

    for path in ("/", "/example", "/example/embed", "/monitor"):
        response = await async_client.get(path)
        assert response.status_code == 200, path
        assert "Example Room" in response.content.decode()


async def test_youtube_room_links_the_video_without_javascript(async_client, rooms):
    rooms[0] = room_object(live=False, streams=[], info={"youtube": "abc_DEF-123"})

    html = (await async_client.get("/example")).content.decode()

    assert 'id="player" class="player" ' in html and 'id="player" class="player" hidden' not in html
    assert '<a href="https://www.youtube.com/watch?v=abc_DEF-123">Watch on YouTube</a>' in html


async def test_only_the_embed_page_may_be_framed(async_client, rooms):
    room_page = await async_client.get("/example")
    embed = await async_client.get("/example/embed")

    assert room_page["X-Frame-Options"] == "DENY"
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    assert embed["Content-Security-Policy"] == "frame-ancestors *"
    html = embed.content.decode()
    assert '<video id="video"' in html
    assert 'class="site"' not in html  # the player alone, no site header
    assert (await async_client.get("/nowhere/embed")).status_code == 404


async def test_monitor_shows_every_room_with_preview(async_client, rooms):
    rooms.append(room_object(name="hall-2", title="Hall 2", live=False, info={}, now=None, next=None, viewers=0))

    html = (await async_client.get("/monitor")).content.decode()

    assert html.count('class="tile"') == 2
    assert 'data-preview="https://cdn.example/hall.jpg" data-interval="5"' in html
    assert 'id="state"' not in html  # many rooms: no duplicate ids
    assert 'data-state="hall-2">Offline</span>' in html
    assert 'data-viewers="example" >7 watching' in html


async def test_venue_address_gets_the_in_room_page(async_client, rooms, venue_lookups):
    response = await get_from("10.9.0.5", "/example")

    html = response.content.decode()
    assert venue_lookups == ["10.9.0.5"]
    assert "You are on the venue's network" in html
    assert "<video" not in html
    assert '<a href="/example/schedule">Programme</a>' in html
    assert 'IRC: <a href="ircs://irc.hackint.org:6697/#hall">' in html
    assert 'data-kind="ends">ends 10:45</time>' in html
    assert "data-watch" not in html  # people in the room are not counted as stream viewers


async def test_other_address_gets_the_player(async_client, rooms, venue_lookups):
    html = (await get_from("198.51.100.4", "/example")).content.decode()

    assert venue_lookups == ["198.51.100.4"]
    assert '<video id="video"' in html


async def test_forwarded_for_is_ignored_from_an_untrusted_connection(async_client, rooms, venue_lookups, settings):
    settings.TRUSTED_PROXIES = ["192.0.2.1"]

    html = (await get_from("198.51.100.4", "/example", x_forwarded_for="10.9.0.5")).content.decode()

    assert venue_lookups == ["198.51.100.4"]
    assert '<video id="video"' in html


async def test_forwarded_for_from_a_trusted_proxy_gives_the_right_most_untrusted_address(
    async_client, rooms, venue_lookups, settings
):
    settings.TRUSTED_PROXIES = ["192.0.2.1", "172.16.0.0/12"]
    # The client wrote the first entry itself; the proxies appended the rest.
    forwarded = "10.9.9.9, 10.9.0.5, 172.16.4.4"

    html = (await get_from("192.0.2.1", "/example", x_forwarded_for=forwarded)).content.decode()

    assert venue_lookups == ["10.9.0.5"]
    assert "You are on the venue's network" in html


async def test_spoofed_forwarded_for_behind_a_trusted_proxy_does_not_hide_the_client(
    async_client, rooms, venue_lookups, settings
):
    settings.TRUSTED_PROXIES = ["192.0.2.1"]

    await get_from("192.0.2.1", "/example", x_forwarded_for="10.9.0.5, 198.51.100.4")

    assert venue_lookups == ["198.51.100.4"]


async def test_venue_networks_from_config_get_the_in_room_page(async_client, settings, tmp_path):
    # Depends on the tracker's venue API and `localips` in the rooms config.
    from testing.processes import TEST_CONFIG_DIR
    from tracker import config

    localips = '"grace": 1, "localips": ["10.9.0.0/16"]'
    main = (TEST_CONFIG_DIR / "config.json").read_text().replace('"grace": 1', localips)
    (tmp_path / "config.json").write_text(main)
    (tmp_path / "config.private.json").write_text((TEST_CONFIG_DIR / "config.private.json").read_text())
    settings.ROOMS_CONFIG_DIR = tmp_path
    config.reset_cache()

    venue = (await get_from("10.9.0.5", "/example")).content.decode()
    elsewhere = (await get_from("10.8.0.5", "/example")).content.decode()

    assert "You are on the venue's network" in venue
    assert "<video" not in venue
    assert "<video" in elsewhere


async def test_room_page_shows_the_player_when_the_venue_check_is_unavailable(async_client, rooms):
    # The real tracker_api.is_venue: a tracker without the venue API (or one
    # that fails) must not take the stream away from remote viewers.
    html = (await get_from("10.9.0.5", "/example")).content.decode()

    assert '<video id="video"' in html


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


def test_recording_links_come_from_the_rooms_template_and_only_safe_ones():
    from frontend.extras import relive_link

    talk = {"guid": "a b/c", "id": "12", "generated": False}
    assert relive_link("https://media.example/v/{guid}", talk) == "https://media.example/v/a%20b%2Fc"
    assert relive_link("https://relive.example/{id}/index.m3u8", talk) == "https://relive.example/12/index.m3u8"
    assert relive_link("https://relive.example/{id}", {**talk, "id": ""}) == ""  # no id, no guessing
    assert relive_link("https://relive.example/{guid}", {**talk, "generated": True}) == ""  # a break has none
    assert relive_link("javascript:alert('{guid}')", talk) == ""
    assert relive_link("", talk) == ""
    # The schedule's own recording goes first; a talk the speakers opted out of has none at all.
    recorded = {**talk, "recording": "https://media.example/v/12"}
    assert relive_link("https://relive.example/{id}", recorded) == "https://media.example/v/12"
    assert relive_link("", recorded) == "https://media.example/v/12"
    assert relive_link("https://relive.example/{id}", {**recorded, "do_not_record": True}) == ""
    assert relive_link("", {**talk, "recording": "javascript:alert(1)"}) == ""
