"""One unreadable record never stops the loops that serve everyone else."""

import json
import time
import urllib.request

from testing.factories import post_heartbeat, report, stream
from testing.processes import TEST_CONFIG_DIR, TEST_SECRET, running, wait_for
from tracker.encoders import ingest, store
from tracker.encoders.state_machine import State
from tracker.live import audience
from tracker.ops import alerts, metrics
from tracker.ops import snapshot as dashboard
from tracker.ops.tests.test_alerts import Receiver

STREAM = stream()
URL = "/tracker/api/heartbeat"


async def test_a_lone_surrogate_is_refused_before_anything_is_written(async_client, encoder_token, redis_client):
    body = {
        "room": "example",
        "encoder": "enc-1",
        "streams": [STREAM],
        "metrics": {"errors": [{"source": "capture", "reason": "\ud800"}]},
    }
    before = sorted(redis_client.keys("*"))

    response = await async_client.post(
        URL,
        json.dumps(body),  # ensure_ascii: the surrogate travels as the escape \ud800, as a hostile client sends it
        content_type="application/json",
        headers={"Authorization": f"Bearer {encoder_token}"},
    )

    assert response.status_code == 400
    assert response.json()["field"] == "metrics.errors[0].reason"
    assert sorted(redis_client.keys("*")) == before
    await report("example", "other", STREAM, now=1000.0)
    assert [t.new for t in await ingest.sweep(store.get_redis(), now=1010.5)] == [State.LATE]


POISON = {
    # What got in before: valid JSON, but Lua's cjson refuses the unpaired surrogate.
    "example/surrogate": json.dumps(
        {
            **{"room": "example", "name": "surrogate", "role": "encoder", "state": "up", "reason": "\ud800"},
            **{"since": 1.0, "last_seen": 1.0, "interval": 1, "grace": 1, "seq": 1, "streams": [], "metrics": {}},
        }
    ),
    "example/garbage": "{not json",
    "example/wrong-types": json.dumps({"room": "example", "name": "wrong-types", "seq": "1", "state": "up"}),
    "hall-2/no-url": json.dumps(
        {
            **{"room": "hall-2", "name": "no-url", "role": "encoder", "state": "up", "reason": ""},
            **{"since": 1.0, "last_seen": 1.0, "interval": 1, "grace": 1, "seq": 1, "metrics": {}},
            "streams": [{"format": "hls"}],
        }
    ),
}


def poison(redis_client) -> None:
    """Unreadable values written straight into Redis, everywhere a loop reads."""
    for member, text in POISON.items():
        redis_client.hset("streaming:records", member, text)
        redis_client.zadd("streaming:deadlines", {member: 0})  # due at once, before everyone else
    redis_client.hset("streaming:room:example", "garbage", "{not json")
    redis_client.hset("streaming:attrs:example", "viewers", "[unclosed")
    redis_client.hset("streaming:audience", "bogus-process", '{"at": "now"}')
    redis_client.xadd("streaming:log:example", {"transition": '{"room": "\\ud800"'})  # cut short
    redis_client.set("streaming:ops:audience", "{")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        return json.load(response)


def test_poisoned_records_stop_no_sweep_and_no_alert(site_env, redis_client, tmp_path):
    receiver = Receiver()
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.json").write_text((TEST_CONFIG_DIR / "config.json").read_text())
    private = {"config": {"secret": TEST_SECRET, "webhooks": [receiver.url]}}
    (config_dir / "config.private.json").write_text(json.dumps(private))
    env = {**site_env, "ROOMS_CONFIG_DIR": str(config_dir)}
    try:
        with running(env, tmp_path) as site:
            token = site.add_encoder("example", "cam-1")
            wait_for(lambda: redis_client.xinfo_groups("streaming:log:example"), timeout=10, what="alert group")
            poison(redis_client)
            post_heartbeat(
                site.url, {"room": "example", "encoder": "cam-1", "interval": 1, "streams": [STREAM]}, token=token
            )
            sent = time.monotonic()
            assert get_json(site.url + "/tracker/api/rooms/example")["live"] is True

            # interval 1 s + grace 1 s: down after 2 s; the worker sweeps at least every 0.5 s.
            wait_for(lambda: any(a["new"] == "down" for a in receiver.received), timeout=10, what="down alert")
            took = time.monotonic() - sent
            rooms = get_json(site.url + "/tracker/api/rooms")
            history = get_json(site.url + "/tracker/api/history?range=5")
    finally:
        receiver.server.shutdown()

    assert [(a["name"], a["new"]) for a in receiver.received] == [("cam-1", "down")]
    assert took < 5
    assert all(not room["live"] for room in rooms["rooms"])
    assert set(history["rooms"]) == {"example", "hall-2"}
    # Each unreadable record was moved aside once, and said so once, naming its key.
    assert redis_client.hkeys("streaming:records") == ["example/cam-1"]
    for member, text in POISON.items():
        assert redis_client.get(f"streaming:quarantine:{member}") == text
        assert redis_client.ttl(f"streaming:quarantine:{member}") > 6 * 24 * 3600
    worker_log = "".join(path.read_text() for path in tmp_path.glob("*-1.log"))
    for member in POISON:
        assert worker_log.count(f"quarantined the unreadable record {member!r}") == 1, worker_log
    assert "Traceback" not in worker_log


async def test_readers_skip_unreadable_values(redis_client, caplog):
    await report("example", "cam-1", STREAM, now=time.time())
    poison(redis_client)
    redis = store.get_redis()

    _, ops_text = await dashboard.ops_snapshot(redis, now=time.time())
    exposition = await metrics.exposition(redis)
    totals = await audience.publish_totals(redis, ["example", "hall-2"])
    await alerts.ensure_groups(redis)
    snapshot = await store.read_snapshot(redis, ["example"])
    _, ops_again = await dashboard.ops_snapshot(redis, now=time.time())

    assert [e["name"] for e in json.loads(ops_text)["encoders"]] == ["cam-1"]
    assert 'streaming_encoders{state="up"} 1' in exposition
    assert totals["example"]["viewers"] == 0
    assert redis_client.hkeys("streaming:audience") == []  # the unreadable report is dropped like a stale one
    assert list(snapshot.rooms["example"].reports) == ["cam-1"]
    assert json.loads(ops_again)["logs"]["example"][0]["name"] == "cam-1"
    # Once per key and process, however often it is read.
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipping unreadable")]
    assert len(skipped) == len(set(skipped))
    assert any("'streaming:records:example/garbage'" in line for line in skipped)
