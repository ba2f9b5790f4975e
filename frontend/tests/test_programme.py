"""A room's programme page and schedule feeds, from a real schedule file."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tracker.encoders import store
from tracker.programme import sync
from tracker.schedule.fillers import DEFAULT_DAY_CHANGE
from tracker.schedule.timezones import programme_day


@pytest.fixture
def programme(use_config, tmp_path):
    """Room "example" with a talk running now and one in half an hour."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%S+00:00"
    talks = [
        {
            "Id": 1,
            "Title": "Running talk",
            "Room Name": "Main",
            "Start": (now - timedelta(minutes=10)).strftime(fmt),
            "End": (now + timedelta(minutes=20)).strftime(fmt),
            "URL": "https://c.example/1",
            "Presenters": "Ada",
        },
        {
            "Id": 2,
            "Title": "Next <b>talk</b>",
            "Room Name": "Main",
            "Start": (now + timedelta(minutes=30)).strftime(fmt),
            "End": (now + timedelta(minutes=60)).strftime(fmt),
            "URL": "https://c.example/2",
        },
    ]
    source = tmp_path / "schedule.json"
    source.write_text(json.dumps(talks))
    use_config(example={"schedule": str(source), "schedule-key": "Main"})
    return now


async def synced() -> None:
    redis = store.get_redis()
    await sync.sync(redis)
    await sync.push_now_next(redis, now=sync.schedule_now())


async def test_programme_page_lists_the_day_with_the_current_talk(programme, async_client):
    await synced()

    html = (await async_client.get("/example/schedule")).content.decode()
    # From 05:30 to 06:00 UTC the next talk belongs to the next programme day (days change at 06:00).
    next_day = programme_day(programme + timedelta(minutes=30), UTC, DEFAULT_DAY_CHANGE)
    if next_day != programme_day(programme, UTC, DEFAULT_DAY_CHANGE):
        html += (await async_client.get(f"/example/schedule?day={next_day}")).content.decode()

    assert '<a class="title" href="https://c.example/1">Running talk</a>' in html
    assert "Next &lt;b&gt;talk&lt;/b&gt;" in html  # titles are text, never markup
    assert html.index('class=" current"') < html.index("Running talk")


async def test_room_page_shows_now_and_next_and_links_the_programme(programme, async_client):
    await synced()

    html = (await async_client.get("/example")).content.decode()

    assert "Running talk" in html and "Next &lt;b&gt;talk&lt;/b&gt;" in html
    assert '<a href="/example/schedule">Programme</a>' in html


async def test_schedule_feeds_pass_through_the_frontend(programme, async_client):
    await synced()

    day = (await async_client.get("/example/schedule.json")).json()
    rss = await async_client.get("/example/rss")
    ics = await async_client.get("/example/schedule.ics")

    assert (day["now"]["title"], day["next"]["title"]) == ("Running talk", "Next <b>talk</b>")
    assert rss["Content-Type"].startswith("application/rss+xml")
    assert "<title>Now: Running talk</title>" in rss.content.decode()
    assert "<link>http://testserver/example</link>" in rss.content.decode()
    assert ics.content.decode().count("BEGIN:VEVENT") == 2


async def test_feeds_of_unknown_room_are_404(async_client):
    assert (await async_client.get("/nowhere/rss")).status_code == 404
    assert (await async_client.get("/nowhere/schedule")).status_code == 404


async def test_programme_without_a_schedule_says_so(async_client):
    html = (await async_client.get("/hall-2/schedule")).content.decode()

    assert "Nothing today in this room" in html or "No programme for this room." in html


async def test_a_schedule_key_that_matches_nothing_says_programme_unavailable_everywhere(
    programme, use_config, tmp_path, async_client
):
    use_config(example={"schedule": str(tmp_path / "schedule.json"), "schedule-key": "Hall 9"})  # the source has "Main"
    await synced()

    pages = {path: (await async_client.get(path)).content.decode() for path in ("/", "/example", "/monitor")}
    programme_page = (await async_client.get("/example/schedule")).content.decode()

    for path, html in pages.items():
        now = (
            '<p class="event filler unavailable"><span class="label">Now</span> <a class="title">Programme unavailable'
        )
        assert now in html, path
        assert "Nothing today" not in html, path
    assert '<li class="filler unavailable current"' in programme_page
    assert "Nothing today" not in programme_page


async def test_a_day_that_is_not_a_date_is_a_400_naming_the_field(programme, async_client):
    for path in ("/programme?day=tomorrow", "/example/schedule?day=2025-13-01"):
        answer = await async_client.get(path)
        assert (answer.status_code, answer.json()["field"]) == (400, "day")


async def test_the_schedule_json_takes_at_like_the_trackers(programme, async_client):
    await synced()
    later = (datetime.now(UTC) + timedelta(minutes=40)).isoformat().replace("+", "%2B")

    day = (await async_client.get(f"/example/schedule.json?at={later}")).json()
    bad = await async_client.get("/example/schedule.json?at=yesterday")

    assert day["now"]["title"] == "Next <b>talk</b>"
    assert (bad.status_code, bad.json()["field"]) == (400, "at")


def test_every_rooms_day_lays_each_talk_in_its_rooms_column_and_rows():
    from frontend.programme import whole_day

    def at(hour: int, minute: int) -> str:
        return f"2025-12-27T{hour:02}:{minute:02}:00+00:00"

    rooms = [{"name": "one"}, {"name": "two"}]
    schedules = [
        {"day": [{"guid": "a", "title": "A", "start": at(10, 0), "end": at(10, 40)}, {"generated": True}]},
        {
            "day": [
                {"guid": "b", "title": "B", "start": at(10, 0), "end": at(11, 0)},
                {"guid": "c", "title": "C", "start": at(11, 0), "end": at(11, 30)},
            ]
        },
    ]

    grid = whole_day(rooms, schedules, now=datetime(2025, 12, 27, 10, 50, tzinfo=UTC))

    placed = [(t["guid"], t["column"], t["row"], t["until"], t["current"]) for s in grid["slots"] for t in s["talks"]]
    # Row 1 holds the rooms; a row per five minutes from the first talk; fillers are not talks.
    assert placed == [("a", 2, 2, 10, False), ("b", 3, 2, 14, True), ("c", 3, 14, 20, False)]
    assert [(s["row"], s["until"]) for s in grid["slots"]] == [(2, 14), (14, 15)]
    assert grid["rows"] == 20
