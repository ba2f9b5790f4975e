import json
from urllib.parse import urlencode

import pytest

from conftest import TEST_SECRET

URL = "/tracker/endpoint/register"
STATS = {
    "overall_clients": 7,
    "overall_bitrate": 900,
    "hls_hd_clients": 5,
    "hls_hd_bitrate": 600,
    "webm_sd_clients": "2",
}


async def register(async_client, **fields):
    form = {"secret": TEST_SECRET, "group": "example", "data": json.dumps(STATS), **fields}
    return await async_client.post(URL, urlencode(form), content_type="application/x-www-form-urlencoded")


async def test_legacy_register_ok_builds_urls_from_sender_address(async_client, redis_client):
    response = await register(async_client)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"OK"
    record = json.loads(redis_client.hget("streaming:records", "example/legacy-127.0.0.1"))
    assert record["streams"] == [
        {"format": "hls", "quality": "hd", "url": "http://127.0.0.1/example/hls_hd.m3u8", "clients": 5, "bitrate": 600},
        {"format": "webm", "quality": "sd", "url": "http://127.0.0.1/example/webm_sd.webm", "clients": 2, "bitrate": 0},
    ]


@pytest.mark.parametrize(
    "fields, status, line",
    [
        ({"secret": "wrong"}, 403, "ERROR SECRET"),
        ({"secret": ""}, 403, "ERROR SECRET"),
        ({"group": "nowhere"}, 404, "ERROR GROUP"),
        ({"data": "{broken"}, 400, "ERROR DATA data is not valid JSON"),
        ({"data": "[]"}, 400, "ERROR DATA data: must be a JSON object"),
        ({"data": json.dumps({"overall_clients": 3})}, 400, "ERROR DATA data: has no <format>_<quality>_clients entry"),
        ({"data": json.dumps({"flv_hd_clients": 3})}, 400, "ERROR DATA flv_hd_clients: must be one of"),
        ({"data": json.dumps({"hls_hd_clients": -3})}, 400, "ERROR DATA hls_hd_clients: must be from 0"),
    ],
)
async def test_legacy_register_errors(async_client, redis_client, fields, status, line):
    response = await register(async_client, **fields)

    assert response.status_code == status
    assert response.content.decode().startswith(line)
    assert redis_client.keys("*") == []


def test_legacy_ipv6_sender_is_bracketed_in_urls():
    from tracker.heartbeat import parse_legacy_streams

    streams = parse_legacy_streams(
        {"hls_hd_clients": 1}, room="r", address="2001:db8::1", url_template="http://{address}/{room}.{ext}"
    )

    assert streams[0]["url"] == "http://[2001:db8::1]/r.m3u8"
