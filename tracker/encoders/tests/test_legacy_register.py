"""The legacy register endpoint against what the original clients send, byte for byte.

The original clients (tools/register/register.py and fake_register.py of the
TimVideos streaming system, Python 2) build the form with
`urllib.urlencode(((secret, …), (group, …), (data, json.dumps(data))))`, send
bitrates as floats, and exit on any status but 200. tracker/tests/legacy/
original_client.py reproduces them with the standard library, and runs as
their loop did against a real daphne at the end of this file.
"""

import http.client
import json
import re
import subprocess
import sys
import urllib.request
from urllib.parse import unquote_plus, urlencode, urlsplit

import pytest

from testing.processes import ROOT, TEST_SECRET
from tracker.encoders.legacy import COUNTED_ONLY, OFFERS
from tracker.tests.legacy import original_client as client
from tracker.tests.legacy.original_client import original_data

URL = "/tracker/endpoint/register"
# Every name the original server had columns for.
ORIGINAL_NAMES = ["loop", "webm_high", "webm_low", "flv_high", "flv_low", "ogg_high", "aac_high", "mp3_high"]
FORM = "application/x-www-form-urlencoded"


def original_form(data: dict, *, secret: str = TEST_SECRET, group: str = "example", **extra: str) -> str:
    return client.original_form(data, secret=secret, group=group, **extra)


async def register(async_client, body: str):
    return await async_client.post(URL, body, content_type=FORM)


def record(redis_client, name: str = "legacy-127.0.0.1") -> dict:
    return json.loads(redis_client.hget("streaming:records", f"example/{name}"))


def assert_answer(response, line: str) -> None:
    assert response.status_code == 200  # the original clients raise and exit on anything else
    assert response["Content-Type"] == "text/plain"
    assert response.content == line.encode() + b"\n"


async def test_legacy_fake_client_payload_is_ok_with_float_bitrates_rounded(async_client, redis_client):
    # fake_register.py's one stream: ogg_high, 4 clients, 1e6 bit/s out, stream bitrate 2e6.
    body = original_form(original_data([("http-ogg-high", 4, 1e6, 2e6)]), REMOTE_ADDR="")
    assert '"ogg_high_bitrate": 1000000.0' in unquote_plus(body)

    response = await register(async_client, body)

    assert_answer(response, "OK")
    stored = record(redis_client)
    assert stored["streams"] == [
        {
            "format": "audio",
            "quality": "ogg",
            "url": "http://127.0.0.1:8080/audio-only.ogg",
            "clients": 4,
            "bitrate": 250_000,  # _cbitrate / clients: the clients send consumption there too
            "bandwidth": 1_000_000,  # _bitrate: what went out
        }
    ]
    assert stored["totals"] == {"clients": 4, "bandwidth": 1_000_000}
    assert stored["stats"] == {"overall_cbitrate": 8_000_000}
    assert stored["interval"] == 60  # the original's one-minute window: its real client registers every 30 s


async def test_legacy_remote_addr_field_is_ignored(async_client, redis_client):
    body = original_form(original_data([("http-webm-high", 1, 5e5, 5e5)]), REMOTE_ADDR="203.0.113.9")

    assert_answer(await register(async_client, body), "OK")

    assert redis_client.hkeys("streaming:records") == ["example/legacy-127.0.0.1"]
    assert record(redis_client)["streams"][0]["url"] == "http://127.0.0.1:8080/webcast-high.webm"


async def test_legacy_every_original_name_is_offered_or_counted(async_client, redis_client):
    components = [
        (f"http-{name.replace('_', '-')}", 2, 1e5 * (i + 1), 5e4 * (i + 1)) for i, name in enumerate(ORIGINAL_NAMES)
    ]

    assert_answer(await register(async_client, original_form(original_data(components))), "OK")

    stored = record(redis_client)
    offered = {(s["format"], s["quality"]): s["url"] for s in stored["streams"]}
    assert offered == {
        ("webm", "high"): "http://127.0.0.1:8080/webcast-high.webm",
        ("webm", "low"): "http://127.0.0.1:8080/webcast-low.webm",
        ("audio", "ogg"): "http://127.0.0.1:8080/audio-only.ogg",
        ("audio", "aac"): "http://127.0.0.1:8080/audio-only.aac",
        ("audio", "mp3"): "http://127.0.0.1:8080/audio-only.mp3",
    }
    assert {c["name"]: c["why"] for c in stored["counted"]} == COUNTED_ONLY
    assert all(c["clients"] == 2 and c["bandwidth"] > 0 for c in stored["counted"])
    assert stored["totals"]["clients"] == 2 * len(ORIGINAL_NAMES)
    assert len(stored["streams"]) == 5
    assert set(ORIGINAL_NAMES) <= set(OFFERS) | set(COUNTED_ONLY)


async def test_legacy_counted_only_streams_are_never_offered_to_viewers(async_client):
    body = original_form(original_data([("http-flv-high", 7, 1e6, 1e6), ("http-loop", 1, 1e5, 1e5)]))

    assert_answer(await register(async_client, body), "OK")

    room = (await async_client.get("/tracker/api/rooms/example")).json()
    assert (room["live"], room["streams"]) == (False, [])
    assert (await async_client.get("/tracker/api/rooms/example/stream")).status_code == 404


async def test_legacy_overall_only_payload_is_counted_with_no_playable_stream(async_client, redis_client):
    # The original's own test_endpoint_register_good: only overall_bitrate and overall_clients.
    body = urlencode(
        {
            "group": "example",
            "secret": TEST_SECRET,
            "data": '\n{\n    "overall_bitrate": 1,\n    "overall_clients": 2\n}\n',
        }
    )

    assert_answer(await register(async_client, body), "OK")

    stored = record(redis_client)
    assert (stored["state"], stored["streams"], stored["counted"]) == ("up", [], [])
    assert stored["totals"] == {"clients": 2, "bandwidth": 1}
    assert (await async_client.get("/tracker/api/rooms/example")).json()["live"] is False


async def test_legacy_missing_data_is_ok_as_the_original_defaulted_to_empty(async_client, redis_client):
    assert_answer(await register(async_client, urlencode({"secret": TEST_SECRET, "group": "example"})), "OK")

    assert record(redis_client)["totals"] == {"clients": 0, "bandwidth": 0}


async def test_legacy_unknown_names_are_kept_as_operator_stats(async_client, redis_client):
    data = {"overall_clients": 3, "rtsp_high_clients": 3, "rtsp_high_bitrate": 9e5, "webm_high_dropped": 4.0}

    assert_answer(await register(async_client, original_form(data)), "OK")

    stored = record(redis_client)
    assert stored["counted"] == [
        {"name": "rtsp_high", "clients": 3, "bitrate": 0, "bandwidth": 900_000, "why": "not an original stream name"}
    ]
    assert stored["stats"] == {"webm_high_dropped": 4}


@pytest.mark.parametrize(
    "fields, line",
    [
        ({"secret": "wrong"}, "ERROR SECRET"),
        ({"secret": ""}, "ERROR SECRET"),
        ({"group": "nowhere"}, "ERROR GROUP"),
        ({"data": "{"}, "ERROR JSONDecodeError data is not valid JSON"),
        ({"data": "[]"}, "ERROR TypeError data must be a JSON object"),
        ({"data": '{"ip": "10.1.1.1"}'}, "ERROR AssertionError data may not set 'ip': the server sets it"),
        ({"data": '{"group": "a"}'}, "ERROR AssertionError data may not set 'group': the server sets it"),
        ({"data": '{"bogus": 1}'}, "ERROR TypeError 'bogus' is not a <name>_<figure> key"),
        ({"data": '{"webm_high_clients": -3}'}, "ERROR ValueError webm_high_clients: must be from 0 to 100000000000"),
        ({"data": '{"webm_high_clients": "many"}'}, "ERROR ValueError webm_high_clients: must be a number"),
        ({"data": '{"webm_high_bitrate": NaN}'}, "ERROR ValueError webm_high_bitrate: must be a number"),
        ({"data": '{"webm_high_clients": 1e400}'}, "ERROR ValueError webm_high_clients: must be a number"),
        ({"data": '{"webm_high_clients": true}'}, "ERROR ValueError webm_high_clients: must be a number"),
        (
            {"data": json.dumps({f"s{i}_clients": 1 for i in range(257)})},
            "ERROR ValueError data has more than 256 keys",
        ),
        (
            {"data": json.dumps({"a" * 70 + "_clients": 1})},
            f"ERROR TypeError '{'a' * 64}' is not a <name>_<figure> key",
        ),
    ],
)
async def test_legacy_errors_are_200_with_the_original_lines(async_client, redis_client, fields, line):
    form = {"secret": TEST_SECRET, "group": "example", "data": "{}", **fields}

    response = await register(async_client, urlencode(form))

    assert_answer(response, line)
    assert redis_client.hkeys("streaming:records") == []


async def test_legacy_body_over_the_limit_is_200_with_an_error_line(async_client, settings, redis_client):
    body = (
        original_form({"overall_clients": 1, "padding_x_clients": 0})
        + "&pad="
        + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )

    response = await register(async_client, body)

    assert_answer(response, f"ERROR RequestDataTooBig body over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
    assert redis_client.hkeys("streaming:records") == []


async def test_legacy_no_secret_configured_answers_config_error(async_client, use_config, redis_client):
    use_config({"secret": ""})

    response = await register(async_client, original_form({}, secret=""))

    assert_answer(response, "ERROR CONFIG (No secret)")
    assert redis_client.hkeys("streaming:records") == []


@pytest.mark.parametrize("method", ["get", "head", "put"])
async def test_legacy_non_post_is_redirected_home_as_the_original_did(async_client, method):
    response = await getattr(async_client, method)(URL)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "no-cache" in response["Cache-Control"]


async def test_legacy_mp4_of_the_last_original_schema_is_offered_once_a_room_gives_it_a_url(
    async_client, use_config, redis_client
):
    data = original_data([("http-mp4-high", 2, 4e6, 2e6)])
    assert_answer(await register(async_client, original_form(data)), "OK")
    counted = record(redis_client)["counted"]
    use_config(example={"legacy-streams": {"mp4_high": "https://{address}/webcast-high.mp4"}})

    assert_answer(await register(async_client, original_form(data)), "OK")

    assert [(c["name"], c["why"]) for c in counted] == [("mp4_high", "no URL configured")]
    assert record(redis_client)["streams"] == [
        {
            "format": "mp4",
            "quality": "high",
            "url": "https://127.0.0.1/webcast-high.mp4",
            "clients": 2,
            "bitrate": 2_000_000,
            "bandwidth": 4_000_000,
        }
    ]


async def test_legacy_public_host_override_replaces_the_sender_address(async_client, use_config, redis_client):
    use_config(example={"legacy-public-host": "streams.example.org", "legacy-streams": {"webm_low": ""}})
    data = original_data([("http-webm-high", 1, 1e6, 1e6), ("http-webm-low", 1, 3e5, 3e5)])

    assert_answer(await register(async_client, original_form(data)), "OK")

    stored = record(redis_client)
    assert [s["url"] for s in stored["streams"]] == ["http://streams.example.org:8080/webcast-high.webm"]
    assert [(c["name"], c["why"]) for c in stored["counted"]] == [("webm_low", "no URL configured")]


async def test_legacy_sender_is_rate_limited_per_room_like_a_token(redis_client):
    from tracker.encoders import store
    from tracker.encoders.heartbeat import Heartbeat
    from tracker.encoders.ingest import Refused, accept_legacy
    from tracker.encoders.state_machine import Identity

    async def send(room: str, now: float) -> None:
        identity = Identity(name="legacy-192.0.2.1", room=room, role="endpoint", grace=1)
        beat = Heartbeat(room=room, encoder=identity.name, interval=10, streams=[])
        await accept_legacy(store.get_redis(), identity=identity, beat=beat, now=now)

    for _ in range(5):  # heartbeat-rate: 5 a second
        await send("example", 1000.5)
    with pytest.raises(Refused) as refused:
        await send("example", 1000.9)
    await send("hall-2", 1000.9)  # another room: its own budget
    await send("example", 1001.0)  # the next second

    assert (refused.value.error, refused.value.message) == ("rate_limited", "at most 5 heartbeats per second")
    assert redis_client.get("streaming:stats:heartbeats") == "8"  # counted in the metrics like any heartbeat


def test_legacy_ipv6_sender_is_bracketed_in_urls():
    from tracker.encoders.legacy import parse_report

    report = parse_report(
        {"webm_high_clients": 1}, address="2001:db8::1", templates={"webm_high": "http://{address}:8080/h.webm"}
    )

    assert report.streams[0]["url"] == "http://[2001:db8::1]:8080/h.webm"


def test_original_client_loop_against_real_daphne_says_result_ok_and_room_goes_live(site):
    command = [sys.executable, "-m", "tracker.tests.legacy.original_client", "--secret", TEST_SECRET]
    command += ["--server", f"{site.url}/tracker/endpoint/register", "--group", "example,hall-2", "--ip", "192.0.2.7"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        while len(lines) < 6:  # three rounds of two groups, a second apart
            line = process.stdout.readline()
            assert line, f"the client exited: {lines}"
            lines.append(line.strip())
        rooms = {
            room["name"]: room for room in json.load(urllib.request.urlopen(f"{site.url}/tracker/api/rooms"))["rooms"]
        }
    finally:
        process.terminate()
        process.wait(timeout=10)
    browser = http.client.HTTPConnection(urlsplit(site.url).netloc, timeout=5)
    browser.request("GET", "/tracker/endpoint/register")
    redirect = browser.getresponse()

    assert all(re.fullmatch(r"Registered (example|hall-2) at \S+ \S+ result OK", line) for line in lines), lines
    assert (redirect.status, redirect.getheader("Location")) == (302, "/")  # through daphne's lean path too
    for name in ("example", "hall-2"):
        assert rooms[name]["live"] is True
        assert rooms[name]["streams"] == [
            {"format": "audio", "quality": "ogg", "url": "http://127.0.0.1:8080/audio-only.ogg"}
        ]
