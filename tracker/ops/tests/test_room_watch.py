"""The worker's room states against a real Redis: what operators, viewers and alerts get."""

import pytest

from testing.factories import report, stream
from tracker.config import get_config
from tracker.encoders import ingest, store
from tracker.live import public_rooms
from tracker.ops import actions, alerts, room_watch
from tracker.ops.tests.test_alerts import Receiver, run_worker_once

TALK = {"now": {"title": "A talk", "start": "2026-12-06T10:00:00Z", "end": "2026-12-06T11:00:00Z"}, "next": None}


@pytest.fixture
def receiver(use_config):
    receiver = Receiver()
    use_config({"webhooks": [receiver.url], "alert-suppress-minutes": 10})
    yield receiver
    receiver.stop()


async def three_encoders(*, at: float) -> None:
    for name in ("a", "b", "c"):
        await report("example", name, stream(f"https://{name}/x.m3u8"), now=at)


async def stop(name: str, *, at: float, others: tuple[str, ...] = ()) -> None:
    """Nothing heard from `name` since `at` (while `others` go on): the sweeper takes it to late, then down."""
    redis = store.get_redis()
    await report("example", name, stream(f"https://{name}/x.m3u8"), now=at)
    for other in others:
        await report("example", other, stream(f"https://{other}/x.m3u8"), now=at + 10)
    await ingest.sweep(redis, now=at + 10.5)
    await ingest.sweep(redis, now=at + 11)


async def judge(now: float) -> dict:
    return await room_watch.judge_rooms(store.get_redis(), {}, now=now)


@pytest.mark.usefixtures("redis")
async def test_one_of_three_encoders_stopped_is_redundancy_lost_with_a_warning_alert(receiver):
    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    await three_encoders(at=1000.0)
    assert (await judge(1001.0))["example"]["state"] == "on-air"

    await stop("c", at=1002.0, others=("a", "b"))
    states = await judge(1014.0)
    await report("example", "c", stream("https://c/x.m3u8"), now=1020.0)
    await judge(1021.0)
    await run_worker_once(now=1022.0)

    assert states["example"]["state"] == "redundancy-lost"
    assert states["example"]["label"] == "on air, redundancy lost"
    assert states["example"]["reasons"] == ["c down"]
    rooms = [a for a in receiver.received if a.get("kind") == "room"]
    assert [(a["new"], a["severity"]) for a in rooms] == [("redundancy-lost", "warning"), ("on-air", "ok")]
    assert rooms[0]["text"] == "ON AIR, REDUNDANCY LOST: Example Room — c down"
    assert rooms[1]["text"] == "RECOVERED: Example Room is on air now"
    assert not any(a.get("kind") == "room" and a["severity"] in ("error", "critical") for a in receiver.received)


@pytest.mark.usefixtures("redis")
async def test_every_encoder_stopped_during_a_talk_is_off_air_during_a_talk_once(receiver):
    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    await store.set_room_attr(redis, "example", "nownext", TALK)
    await report("example", "a", stream(), now=1000.0)
    await judge(1001.0)

    await stop("a", at=1002.0)
    for second in range(1014, 1020):  # judged each second: one change, one alert
        states = await judge(float(second))
    await run_worker_once(now=1021.0)

    assert states["example"]["state"] == "off-air-talk"
    assert states["example"]["severity"] == "critical"
    assert [a["new"] for a in receiver.received if a.get("kind") == "room"] == ["off-air-talk"]
    # Viewers are told the talk is on and its stream interrupted.
    snapshot = await store.read_snapshot(redis, list(get_config().rooms))
    public = public_rooms.public_rooms(get_config().rooms, snapshot)["example"]
    assert public["state"] == "off-air-talk"
    # Operators' snapshot carries it, and the log has the change.
    ops = await store.read_ops_snapshot(redis, ["example"])
    assert ops.states["example"]["state"] == "off-air-talk"
    assert any(entry.get("kind") == "room" and entry["new"] == "off-air-talk" for entry in ops.logs["example"])


@pytest.mark.usefixtures("redis")
async def test_off_air_outside_the_programme_is_quiet(receiver):
    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    await report("example", "a", stream(), now=1000.0)
    await judge(1001.0)
    await stop("a", at=1002.0)

    states = await judge(1014.0)
    await run_worker_once(now=1015.0)

    assert (states["example"]["state"], states["example"]["severity"]) == ("off-air", "ok")
    assert [a for a in receiver.received if a.get("kind") == "room"] == []


@pytest.mark.usefixtures("redis")
async def test_room_alerts_keep_silences_and_flap_suppression(receiver):
    redis = store.get_redis()
    await alerts.ensure_groups(redis)
    await three_encoders(at=1000.0)
    await judge(1001.0)
    for at in (1002.0, 1100.0):  # lost and back twice within the window: one warning, one recovery
        await stop("c", at=at, others=("a", "b"))
        await judge(at + 12)
        await report("example", "c", stream("https://c/x.m3u8"), now=at + 20)
        await judge(at + 21)
    await run_worker_once(now=1200.0)
    assert [a["new"] for a in receiver.received if a.get("kind") == "room"] == ["redundancy-lost", "on-air"]

    await actions.silence(redis, {"room": "example", "minutes": 60}, by="op", now=1300.0)
    await stop("c", at=2000.0, others=("a", "b"))
    await judge(2012.0)
    await run_worker_once(now=2013.0)
    assert len([a for a in receiver.received if a.get("kind") == "room"]) == 2


@pytest.mark.usefixtures("redis")
async def test_a_room_without_encoders_is_a_setup_problem(receiver):
    states = await judge(1000.0)
    assert states["hall-2"]["state"] == "no-encoders"
    assert (await store.read_ops_snapshot(store.get_redis(), ["hall-2"])).states["hall-2"]["severity"] == "warning"
