"""The history pages and their CSV exports, from transitions and actions made the site's own way."""

import csv
import io
import re
import time

import pytest
import redis
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.test import Client

from testing.factories import heartbeat, post_heartbeat, report, stream
from testing.processes import RedisProcess, free_port, running, use_redis, wait_for
from tracker.encoders import ingest, store
from tracker.ops import actions

STREAM = stream(clients=3, bitrate=128_000)


async def outage(base: float) -> None:
    """cam: up, down 11 s after its last heartbeat, acknowledged, back after 5 min; mic: up all along."""
    redis = store.get_redis()
    await report("example", "cam", STREAM, now=base)
    await report("example", "mic", STREAM, now=base, interval=3600)
    await ingest.sweep(redis, now=base + 10.5)
    await ingest.sweep(redis, now=base + 11)
    await actions.acknowledge(redis, {"room": "example", "name": "cam"}, by="alice", now=base + 30)
    await actions.silence(redis, {"room": "example", "name": "cam", "minutes": 30}, by="bob", now=base + 40)
    await report("example", "cam", STREAM, now=base + 311)


@pytest.fixture
def history(redis) -> float:
    base = time.time() - 3600
    async_to_sync(outage)(base)
    return base


def test_room_history_shows_timelines_durations_and_who_acted(admin_client: Client, history):
    page = admin_client.get("/tracker/history/example/").content.decode()

    assert 'class="piece down"' in page and 'class="piece up"' in page
    assert "late → down: no heartbeat for 11 s" in page
    assert "for 5 min" in page  # how long it was down (300 s)
    assert "acknowledged (down)" in page and "alice" in page
    assert "silenced alerts" in page and "bob" in page
    assert 'href="/tracker/history/example/cam/"' in page  # each encoder's own page
    assert "(UTC)" in page  # the room's (the event's) time zone


def test_encoder_history_has_its_uptime_and_only_its_own_events(admin_client: Client, history):
    page = admin_client.get("/tracker/history/example/cam/").content.decode()

    assert "late → down" in page
    assert "mic" not in page.split("What happened", 1)[1]
    # Known for the hour since its first heartbeat: up all of it but 0.5 s late and 300 s down.
    uptime = float(re.search(r"Whole period</th><td>([0-9.]+) %", page).group(1))
    assert 91.5 <= uptime <= 91.8


def test_csv_exports_every_transition_and_action_and_every_point(admin_client: Client, history):
    answer = admin_client.get("/tracker/history/example/?export=transitions")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))

    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="example-transitions.csv"' in answer["Content-Disposition"]
    down = next(row for row in rows if row["new"] == "down")
    assert (down["encoder"], down["old"], down["lasted_s"]) == ("cam", "late", "300")
    assert [row["by"] for row in rows if row["kind"] in ("ack", "silence")] == ["alice", "bob"]
    series = admin_client.get("/tracker/history/example/cam/?export=series").content.decode()
    assert series.splitlines()[0] == "time,time_utc,clients,encoding_bit_per_s,outgoing_bit_per_s"


def test_a_formula_in_an_exported_note_is_kept_as_text(admin_client: Client, history):
    async def leave_note() -> None:
        note = {"room": "example", "name": "cam", "text": "=HYPERLINK(1)"}
        await actions.note(store.get_redis(), note, by="eve", now=time.time())

    async_to_sync(leave_note)()

    rows = admin_client.get("/tracker/history/example/?export=transitions").content.decode()

    assert "'=HYPERLINK(1)" in rows


@pytest.mark.django_db
def test_history_is_for_operators_only(client: Client, redis):
    assert client.get("/tracker/history/example/").status_code == 302  # to the login page
    client.force_login(User.objects.create_user("viewer"))
    assert client.get("/tracker/history/example/").status_code == 403


def test_unknown_rooms_encoders_and_exports_are_refused(admin_client: Client, redis):
    assert admin_client.get("/tracker/history/nowhere/").status_code == 404
    assert admin_client.get("/tracker/history/example/no%20such/").status_code == 404
    answer = admin_client.get("/tracker/history/example/?export=pdf")
    assert answer.status_code == 400 and answer.json()["field"] == "export"
    for hours in ("0", "25", "x"):
        answer = admin_client.get(f"/tracker/history/example/?hours={hours}")
        assert answer.status_code == 400 and answer.json()["field"] == "hours"


def test_history_survives_a_crash_of_redis_and_a_restart_of_the_site(site_env, tmp_path, settings, admin_client):
    """Real heartbeats through a real site, then Redis killed (SIGKILL) and started again from its append-only file."""
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    try:
        with running({**site_env, "REDIS_URL": server.url}, tmp_path) as site:
            token = site.add_encoder("example", "cam")
            post_heartbeat(site.url, heartbeat(STREAM, encoder="cam", interval=1), token=token)
            with redis.Redis.from_url(server.url) as direct:
                log = "streaming:log:example"  # the site's processes run with the default prefix
                wait_for(lambda: direct.xlen(log) >= 3, timeout=10, what="up, late and down logged")
        time.sleep(1.5)  # the append-only file is flushed every second
        server.kill()
        server.start()
        use_redis(settings, server.url)

        answer = admin_client.get("/tracker/history/example/cam/?export=transitions")
    finally:
        server.stop()

    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [(row["old"], row["new"]) for row in rows] == [("", "up"), ("up", "late"), ("late", "down")]
