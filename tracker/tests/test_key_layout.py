"""The Redis key layout table in docs/architecture.md is complete: a full run of the site creates no key it
does not name, and every family it names has a pattern, a type and its writers, readers and expiry."""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import redis
from websockets.sync.client import connect

from testing.factories import post_heartbeat, stream
from testing.processes import ROOT, TEST_CONFIG_DIR, TEST_SECRET, free_port, running, wait_for
from tracker.encoders.identities import run_with_redis
from tracker.live import config_reload as reload
from tracker.ops import actions, maintenance
from tracker.tests.legacy.original_client import original_data, original_form

DOC = ROOT / "docs" / "architecture.md"
SECTION = "## Redis key layout"
TYPES = {"string", "hash", "set", "zset", "stream", "channel"}
PREFIX = "streaming"  # the site's processes run with the default REDIS_PREFIX
STREAM = stream("https://cdn.example/a.m3u8", clients=3, bitrate=1000)
# Keys that last two seconds: the run writes them, but they may be gone when it looks.
FLEETING = {
    "<prefix>:rate:<token hash>:<second>",
    "<prefix>:rate:legacy:<room>:<encoder>:<second>",
    "<prefix>:rate:refused:<kind>:<client>",  # made by refusals only, gone 10 s later
}


# What the organisers do in the site's own database, in one process (each start of Django takes seconds):
# two encoders, one more that is revoked at once, and a schedule sync.
SET_UP = """
from django.core.management import call_command
from tracker.encoders.identities import add_encoder, revoke_encoder
print(add_encoder(room="example", name="enc-1")[1])
print(add_encoder(room="hall-2", name="enc-2")[1])
add_encoder(room="hall-2", name="enc-3")
revoke_encoder("enc-3")
call_command("schedule", "sync")
"""


@dataclass(frozen=True)
class Family:
    pattern: str  # as documented: `<prefix>:log:<room>`
    type: str
    regex: re.Pattern[str]


def table_rows() -> list[list[str]]:
    """The cells of each row of the key layout table (header and rule left out)."""
    text = DOC.read_text()
    assert SECTION in text, f"{DOC} has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| Key | Type | Written by | Read by | Expiry |"), lines[0]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def family_of(row: list[str]) -> Family:
    pattern = row[0].strip("`")
    # One part of a name per placeholder; everything else is literal.
    parts = re.split(r"(<[^>]+>)", pattern.replace("<prefix>", PREFIX, 1))
    regex = "".join("[^:]+" if part.startswith("<") else re.escape(part) for part in parts)
    return Family(pattern=pattern, type=row[1], regex=re.compile(regex + r"\Z"))


def families() -> list[Family]:
    return [family_of(row) for row in table_rows()]


def test_every_family_in_the_table_has_a_pattern_a_type_and_its_readers_writers_and_expiry():
    rows = table_rows()
    patterns = [row[0] for row in rows]

    assert rows, "the table has no rows"
    for row in rows:
        assert len(row) == 5, row
        assert re.fullmatch(r"`<prefix>:(?:[^`<>\s]|<[a-z ]+>)+`", row[0]), f"not a key pattern: {row[0]}"
        assert row[1] in TYPES, row
        assert all(row[2:]), f"{row[0]}: writers, readers and expiry must be named"
    assert len(set(patterns)) == len(patterns), "a family is listed twice"


def test_a_full_run_creates_only_keys_the_table_names(site_env, tmp_path, redis_url):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    shutil.copy(TEST_CONFIG_DIR / "config.json", config_dir)
    schedule = schedule_file(tmp_path)
    unreachable_hook = f"http://127.0.0.1:{free_port()}/hook"  # alerts stay queued for a retry
    private = {
        "config": {"secret": TEST_SECRET, "webhooks": [unreachable_hook]},
        "example": {"schedule": str(schedule), "schedule-key": "Saal 1"},
    }
    (config_dir / "config.private.json").write_text(json.dumps(private))
    env = {**site_env, "ROOMS_CONFIG_DIR": str(config_dir)}
    with redis.Redis.from_url(redis_url, decode_responses=True) as client, running(env, tmp_path) as site:
        socket_channels = run_a_day(site, client)
        keys = {name: client.type(name) for name in client.scan_iter(count=1000)}
        # Those with a subscriber: the web process's and the worker's, and the layer's while a socket was open.
        channels = client.pubsub_channels() + socket_channels
    table = families()
    seen: set[str] = set()

    for name, kind in sorted(keys.items()):
        matches = [family for family in table if family.regex.match(name)]
        assert len(matches) == 1, f"{name!r} matches {[f.pattern for f in matches] or 'no family'} in {DOC.name}"
        assert kind == matches[0].type, f"{name!r} is a {kind}, documented as a {matches[0].type}"
        seen.add(matches[0].pattern)
    for channel in channels:
        assert any(f.type == "channel" and f.regex.match(channel) for f in table), f"channel {channel!r} undocumented"
    assert len(socket_channels) == 2, f"an encoder socket has its layer channel and its group's: {socket_channels}"
    keyed = {family.pattern for family in table if family.type != "channel"}
    assert keyed - seen <= FLEETING, f"documented but not created by a full run: {sorted(keyed - seen - FLEETING)}"


def run_a_day(site, client: redis.Redis) -> list[str]:
    """What an event does to Redis: encoders over HTTP, the websocket and the legacy form, viewers, a failure
    and its alert, a schedule sync, an operator's note, a revocation, a bad login, a config reload.

    Returns the Channels layer's channels while the encoder socket was open (they go when it closes)."""
    token, socket_token = site.manage("shell", "--no-imports", "-c", SET_UP).splitlines()[:2]
    ws_url = site.url.replace("http", "ws")
    with connect(ws_url + "/ws/live/", origin=site.url, open_timeout=5) as viewer:
        viewer.recv(timeout=5)  # the snapshot
        tab = "layout-tab-1"
        viewer.send(json.dumps({"type": "watch", "room": "example", "tab": tab}))
        viewer.send(json.dumps({"type": "health", "state": "playing"}))
        beat = {"room": "example", "encoder": "enc-1", "interval": 30, "streams": [STREAM]}
        post_heartbeat(site.url, beat, token=token)  # the room goes live: a message to the viewer
        with urllib.request.urlopen(site.url + "/tracker/api/rooms/example/stream?format=hls", timeout=5) as answer:
            assert json.load(answer)["url"] == STREAM["url"]
        viewer.send(json.dumps({"type": "report", "room": "example", "tab": tab, "error": "it stutters"}))
        with connect(
            ws_url + "/tracker/ws/encoder/", additional_headers={"Authorization": f"Bearer {socket_token}"}
        ) as ws:
            ws.send(json.dumps({"room": "hall-2", "encoder": "enc-2", "interval": 5, "streams": [STREAM]}))
            assert json.loads(ws.recv(timeout=5))["ok"] is True
            socket_channels = client.pubsub_channels(f"{PREFIX}:layer:*")
        # Closed: enc-2 is disconnected, then down after the grace (1 s): an alert to a hook that is not there.
        legacy = original_form(original_data([("http-ogg-high", 2, 1e5, 1e5)]), secret=TEST_SECRET, group="example")
        with urllib.request.urlopen(site.url + "/tracker/endpoint/register", legacy.encode(), timeout=5) as answer:
            assert answer.read().strip() == b"OK"
        for name in ("ops:audience", "stats:pushed"):
            wait_for(lambda name=name: client.exists(f"{PREFIX}:{name}"), timeout=10, what=f"{PREFIX}:{name}")
    run_with_redis(
        lambda r: actions.note(
            r, {"room": "example", "name": "enc-1", "text": "spare cable"}, by="lead", now=time.time()
        )
    )
    night = {"room": "hall-2", "from": "2030-01-01T22:00", "to": "2030-01-02T08:00", "reason": "nights"}
    run_with_redis(lambda r: maintenance.plan(r, night, by="lead", now=time.time()))
    bad_login(site.url)
    # An unreadable record, due now: the sweeper moves it aside.
    client.hset(f"{PREFIX}:records", "hall-2/broken", "not a record")
    client.zadd(f"{PREFIX}:deadlines", {"hall-2/broken": 0})
    assert len(run_with_redis(reload.order_reload).answers) == 2  # the web process and the worker reload the config
    for name in ("alerts:outbox", "quarantine:hall-2/broken", "hist:enc:example/enc-1"):
        wait_for(lambda name=name: client.exists(f"{PREFIX}:{name}"), timeout=20, what=f"{PREFIX}:{name}")
    return socket_channels


def schedule_file(directory: Path) -> Path:
    path = directory / "schedule.json"
    start = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 600))
    end = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 3000))
    talk = {"Id": 1, "Title": "Keys", "Room Name": "Saal 1", "Start": start, "End": end, "URL": "https://c.example/1"}
    path.write_text(json.dumps([talk]))
    return path


def bad_login(base_url: str) -> None:
    """A wrong password through the real login form, CSRF token and all (an error status raises)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(base_url + "/tracker/login/", timeout=5).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = f"csrfmiddlewaretoken={csrf}&username=nobody&password=wrong".encode()
    opener.open(
        urllib.request.Request(base_url + "/tracker/login/", data=form, headers={"Referer": base_url}), timeout=5
    )
