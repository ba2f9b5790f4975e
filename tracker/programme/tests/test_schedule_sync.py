"""Schedules fetched, stored, diffed and pushed; now/next moved at boundaries."""

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testing.factories import published
from tracker.encoders import store
from tracker.programme import sync as schedule_sync


def feed(*talks: tuple[str, str, str]) -> bytes:
    """An eventfeed schedule: (title, start, end) in room "Saal 1", Berlin time."""
    return json.dumps(
        [
            {"Id": i, "Title": t, "Room Name": "Saal 1", "Start": s, "End": e, "URL": f"https://c.example/{i}"}
            for i, (t, s, e) in enumerate(talks, 1)
        ]
    ).encode()


DAY = feed(
    ("Opening", "2026-12-27 10:00:00", "2026-12-27 10:30:00"),
    ("Keynote", "2026-12-27 10:30:00", "2026-12-27 11:30:00"),
    ("Late talk", "2026-12-27 14:00:00", "2026-12-27 15:00:00"),
)


class ScheduleServer:
    """Serves `body` with an ETag and honours If-None-Match; can be told to fail."""

    def __init__(self) -> None:
        self.body, self.status, self.requests = DAY, 200, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                etag = f'"{hash(server.body)}"'
                server.requests.append(self.headers.get("If-None-Match"))
                if server.status != 200:
                    self.send_response(server.status)
                    self.end_headers()
                elif self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(server.body)))
                    self.end_headers()
                    self.wfile.write(server.body)

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/schedule.json"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def server(use_config) -> Iterator[ScheduleServer]:
    server = ScheduleServer()
    use_config(example={"schedule": server.url, "schedule-key": "Saal 1", "schedule-timezone": "Europe/Berlin"})
    yield server
    server.http.shutdown()


@pytest.mark.usefixtures("redis")
async def test_sync_stores_room_events_and_announces_the_change(server):
    redis = store.get_redis()
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(store.live_channel())

    changed = await schedule_sync.sync(redis)
    events = await store.get_schedule(redis, "example")
    messages = await published(pubsub)

    assert changed == ["example"]
    assert [e["title"] for e in events] == ["Opening", "Keynote", "Late talk"]
    assert events[0]["start"] == "2026-12-27T09:00:00+00:00"
    assert [(m["type"], m["room"]) for m in messages] == [("schedule", "example")]
    await pubsub.aclose()


@pytest.mark.timed  # each fetch has a deadline, which a loaded machine can pass
@pytest.mark.usefixtures("redis")
async def test_sync_uses_conditional_get_and_reports_no_change(server):
    redis = store.get_redis()
    await schedule_sync.sync(redis)

    again = await schedule_sync.sync(redis)
    server.body = DAY.replace(b"Keynote", b"Keynote (moved)")
    third = await schedule_sync.sync(redis)

    assert server.requests[0] is None and server.requests[1] is not None  # second asked If-None-Match
    assert again == []
    assert third == ["example"]


class SlowToForget(set):
    """The set of reads under way, whose reading thread is descheduled as it forgets one (a loaded machine)."""

    def discard(self, location: str) -> None:
        time.sleep(0.2)
        super().discard(location)


async def test_a_source_read_again_as_soon_as_its_read_ended_is_read(monkeypatch):
    monkeypatch.setattr(schedule_sync, "_fetching", SlowToForget())
    monkeypatch.setattr(schedule_sync, "fetch", lambda location, **_: schedule_sync.Fetched(b"[]", "", ""))

    first = await schedule_sync.fetch_in_time("/a/schedule.json", etag="", last_modified="")
    again = await schedule_sync.fetch_in_time("/a/schedule.json", etag="", last_modified="")  # not "still under way"

    assert first.body == again.body == b"[]"


@pytest.mark.usefixtures("redis")
async def test_sync_failure_keeps_last_good_schedule_and_tells_operators(server, caplog):
    redis = store.get_redis()
    await schedule_sync.sync(redis)
    server.status = 500

    with caplog.at_level(logging.WARNING, logger="tracker.programme.sync"):
        changed = await schedule_sync.sync(redis, only="example")
    health = await store.get_ops_state(redis, "schedules")

    assert changed == []
    assert len(await store.get_schedule(redis, "example")) == 3
    assert health["example"]["error"] == "HTTP 500"
    assert health["example"]["ok_at"] > 0
    assert [r.message for r in caplog.records] == [
        f"schedule http://127.0.0.1:{server.http.server_port}/schedule.json for example: HTTP 500; "
        "keeping the last good one"
    ]


@pytest.mark.usefixtures("redis")
async def test_sync_parse_error_is_reported_not_stored(server):
    redis = store.get_redis()
    server.body = b"<schedule><day"

    await schedule_sync.sync(redis)

    assert await store.get_schedule(redis, "example") is None
    assert "XML" in (await store.get_ops_state(redis, "schedules"))["example"]["error"]


@pytest.mark.usefixtures("redis")
async def test_now_next_at_exact_boundaries(server):
    redis = store.get_redis()
    await schedule_sync.sync(redis)

    before = await schedule_sync.push_now_next(redis, now=datetime(2026, 12, 27, 9, 29, 59, tzinfo=UTC))
    state_before = (await store.read_snapshot(redis, ["example"])).rooms["example"].attrs["nownext"]
    await schedule_sync.push_now_next(redis, now=datetime(2026, 12, 27, 9, 30, tzinfo=UTC))
    state_at = (await store.read_snapshot(redis, ["example"])).rooms["example"].attrs["nownext"]

    assert before == datetime(2026, 12, 27, 9, 30, tzinfo=UTC)  # the timer wakes exactly at the Keynote
    assert (state_before["now"]["title"], state_before["next"]["title"]) == ("Opening", "Keynote")
    # A talk starting exactly now is current, not next.
    assert (state_at["now"]["title"], state_at["next"]["title"]) == ("Keynote", "Late talk")
    assert "abstract" not in state_at["now"]


@pytest.mark.usefixtures("redis")
async def test_now_next_in_a_gap_is_a_break_filler(server):
    redis = store.get_redis()
    await schedule_sync.sync(redis)

    await schedule_sync.push_now_next(redis, now=datetime(2026, 12, 27, 11, 0, tzinfo=UTC))
    state = (await store.read_snapshot(redis, ["example"])).rooms["example"].attrs["nownext"]

    assert state["now"]["generated"] is True
    assert state["now"]["filler"] == "break"
    assert state["next"]["title"] == "Late talk"


async def test_schedule_feeds_of_a_room(server, async_client):
    await schedule_sync.sync(store.get_redis())
    at = "2026-12-27T10:15:00%2B01:00"

    day = (await async_client.get(f"/tracker/api/rooms/example/schedule.json?at={at}")).json()
    rss = (await async_client.get(f"/tracker/api/rooms/example/schedule.rss?at={at}")).content.decode()
    ics = await async_client.get("/tracker/api/rooms/example/schedule.ics")
    bad = await async_client.get("/tracker/api/rooms/example/schedule.json?at=yesterday")

    assert (day["now"]["title"], day["next"]["title"]) == ("Opening", "Keynote")
    assert [e["title"] for e in day["day"] if not e["generated"]] == ["Opening", "Keynote", "Late talk"]
    assert "<title>Now: Opening</title>" in rss and "<title>Next: Keynote</title>" in rss
    assert ics["Content-Type"].startswith("text/calendar")
    assert ics.content.decode().count("BEGIN:VEVENT") == 3
    assert (bad.status_code, bad.json()["field"]) == (400, "at")


async def test_schedule_of_a_room_without_one_is_empty(async_client):
    day = (await async_client.get("/tracker/api/rooms/hall-2/schedule.json")).json()

    assert day["now"] is None
    assert day["day"] == []


@pytest.mark.usefixtures("redis")
async def test_schedule_from_a_file_path(use_config, tmp_path):
    path = tmp_path / "programme.json"
    path.write_bytes(DAY)
    use_config(**{"hall-2": {"schedule": str(path), "schedule-key": "saal 1", "schedule-timezone": "Europe/Berlin"}})
    redis = store.get_redis()

    first = await schedule_sync.sync(redis)
    unchanged = await schedule_sync.sync(redis)

    assert (first, unchanged) == (["hall-2"], [])


@pytest.mark.usefixtures("redis")
def test_schedule_commands_sync_and_show(server, capsys):
    from django.core.management import call_command

    call_command("schedule", "sync")
    synced = capsys.readouterr().out
    call_command("schedule", "show", "example", "--at", "2026-12-27T10:15+01:00")
    shown = capsys.readouterr().out.splitlines()

    assert synced.strip() == "example: 3 events (changed)"
    assert "now  Sun 10:00-10:30 Opening" in shown
    assert "next Sun 10:30-11:30 Keynote" in shown
    assert any("[break]" in line for line in shown)


@pytest.mark.usefixtures("redis")
async def test_viewers_are_told_when_a_schedule_changes(server):
    from channels.testing import WebsocketCommunicator

    from tracker.routing import websocket_application

    communicator = WebsocketCommunicator(
        websocket_application, "/ws/live/", headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    await communicator.connect()
    snapshot = json.loads(await communicator.receive_from(timeout=3))

    await schedule_sync.sync(store.get_redis())
    message = json.loads(await communicator.receive_from(timeout=3))

    assert message == {"type": "schedule", "version": snapshot["version"] + 1, "room": "example"}
    await communicator.disconnect()


@pytest.mark.usefixtures("redis")
async def test_a_source_that_breaks_the_parser_does_not_stop_the_others(use_config, tmp_path):
    broken, good = tmp_path / "broken.json", tmp_path / "good.json"
    broken.write_text(
        json.dumps(
            [
                {
                    "Id": 1,
                    "Title": "Endless",
                    "Room Name": "Saal 1",
                    "Start": "2026-12-27 10:00:00",
                    "Duration": "99999999:00",
                }
            ]
        )
    )
    good.write_bytes(DAY)
    use_config(
        example={"schedule": str(broken), "schedule-key": "Saal 1"},
        **{"hall-2": {"schedule": str(good), "schedule-key": "Saal 1"}},
    )
    redis = store.get_redis()

    changed = await schedule_sync.sync(redis)
    health = await store.get_ops_state(redis, "schedules")

    assert changed == ["hall-2"]
    assert health["example"]["error"]
    assert health["hall-2"]["events"] == 3


def test_manual_sync_publishes_now_and_next_at_once(server, redis_client):
    from django.core.management import call_command

    call_command("schedule", "sync")  # no worker runs here

    nownext = json.loads(redis_client.hget("streaming:attrs:example", "nownext"))

    assert nownext["next"]["title"] == "Opening"  # the test's day is ahead of the clock


@pytest.mark.usefixtures("redis")
async def test_sync_with_a_wrong_key_tells_operators_the_room_names_the_source_has(use_config):
    server = ScheduleServer()
    use_config(example={"schedule": server.url, "schedule-key": "Hall One"})
    redis = store.get_redis()

    await schedule_sync.sync(redis)
    first = (await store.get_ops_state(redis, "schedules"))["example"]
    await schedule_sync.sync(redis)  # not modified: the names stay known
    again = (await store.get_ops_state(redis, "schedules"))["example"]
    server.http.shutdown()

    assert (first["events"], first["key"], first["names"]) == (0, "Hall One", ["Saal 1"])
    assert (again["events"], again["names"]) == (0, ["Saal 1"])


REAL_SCHEDULES = Path(__file__).resolve().parents[2] / "schedule" / "tests" / "real"  # with their sources


@pytest.mark.usefixtures("redis")
async def test_schedule_lists_its_days_and_any_one_of_them(use_config, async_client):
    """39C3's Fahrplan (four days, 06:00 to 06:00 in Berlin): the days it holds, and ?day= lists one."""
    source = str(REAL_SCHEDULES / "39c3-hub-schedule.xml")
    use_config(example={"schedule": source, "schedule-key": "One", "schedule-timezone": "Europe/Berlin"})
    await schedule_sync.sync(store.get_redis())
    at = "2025-12-27T12:00:00%2B01:00"

    first = (await async_client.get(f"/tracker/api/rooms/example/schedule.json?at={at}")).json()
    second = (await async_client.get(f"/tracker/api/rooms/example/schedule.json?at={at}&day=2025-12-28")).json()
    bad = await async_client.get("/tracker/api/rooms/example/schedule.json?day=28.12.2025")

    assert first["days"] == ["2025-12-27", "2025-12-28", "2025-12-29", "2025-12-30"]
    assert (first["date"], second["date"]) == ("2025-12-27", "2025-12-28")
    assert first["now"] == second["now"]  # now and next stay those of ?at=
    talks = [e for e in second["day"] if not e["generated"]]
    assert talks and all("2025-12-28T05:00" <= e["start"] < "2025-12-29T05:00" for e in talks)
    assert not {e["guid"] for e in talks} & {e["guid"] for e in first["day"]}
    assert (bad.status_code, bad.json()["field"]) == (400, "day")


@pytest.mark.usefixtures("redis")
async def test_one_talk_with_its_abstract(use_config, async_client):
    source = str(REAL_SCHEDULES / "39c3-hub-schedule.xml")
    use_config(example={"schedule": source, "schedule-key": "One", "schedule-timezone": "Europe/Berlin"})
    await schedule_sync.sync(store.get_redis())

    talk = (await async_client.get("/tracker/api/rooms/example/talks/a2dd3dc7-ecae-50b3-82d9-266ad02f7a40.json")).json()
    missing = await async_client.get("/tracker/api/rooms/example/talks/nothing.json")
    elsewhere = await async_client.get("/tracker/api/rooms/nowhere/talks/a2dd3dc7.json")

    assert talk["title"] == "All my Deutschlandtickets gone: Fraud at an industrial scale"
    assert talk["abstract"].startswith("The Deutschlandticket was the flagship transport policy")
    assert (talk["language"], talk["start"]) == ("en", "2025-12-27T15:00:00+00:00")
    assert (missing.status_code, missing.json()["field"]) == (404, "talk")
    assert (elsewhere.status_code, elsewhere.json()["field"]) == (404, "room")
