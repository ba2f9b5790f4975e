import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from testing.factories import report, stream

STREAM = stream(clients=7, bitrate=3000)


def samples(text: str) -> dict[str, float]:
    """Every sample as Prometheus reads it: 'name{label="value"}' -> value ("2e+06" and 2000000 alike)."""
    return {
        sample.name + "".join(f'{{{k}="{v}"}}' for k, v in sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_from_allowed_address_in_prometheus_format(async_client):
    await report("example", "cam", STREAM)

    response = await async_client.get("/tracker/metrics")

    text = response.content.decode()
    figures = samples(text)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert figures['streaming_encoders{state="up"}'] == 1
    assert figures['streaming_encoders{state="down"}'] == 0
    assert figures['streaming_room_clients{room="example"}'] == 7
    assert figures['streaming_room_bitrate_bytes_per_second{room="example"}'] == 375  # 3000 bit/s
    assert figures['streaming_room_bandwidth_bytes_per_second{room="example"}'] == 2625  # 7 clients x 3000 bit/s
    assert figures['streaming_room_live{room="example"}'] == 1
    assert figures['streaming_room_live{room="hall-2"}'] == 0
    assert "# TYPE streaming_heartbeats_total counter" in text
    assert "# TYPE streaming_push_messages_total counter" in text


async def test_metrics_bandwidth_is_what_goes_out_not_the_encoding_bitrate(async_client):
    await report("example", "rtmp", {**STREAM, "bitrate": 2_000_000, "bandwidth": 9_000_000})
    await report("example", "mixer")  # no stream: neither figure

    figures = samples((await async_client.get("/tracker/metrics")).content.decode())

    assert figures['streaming_room_bitrate_bytes_per_second{room="example"}'] == 250_000
    assert figures['streaming_room_bandwidth_bytes_per_second{room="example"}'] == 1_125_000
    assert figures['streaming_room_bandwidth_bytes_per_second{room="hall-2"}'] == 0


async def test_metrics_counts_heartbeats(encoder_token, async_client):
    body = {"room": "example", "encoder": "enc-1", "streams": [STREAM]}
    for _ in range(3):
        await async_client.post(
            "/tracker/api/heartbeat",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {encoder_token}"},
        )

    figures = samples((await async_client.get("/tracker/metrics")).content.decode())

    assert figures["streaming_heartbeats_total"] == 3


@pytest.mark.parametrize(
    "allow, token, header, status",
    [
        (["10.0.0.0/8"], "", None, 403),
        (["10.0.0.0/8"], "scrape-token-123", "Bearer scrape-token-123", 200),
        (["10.0.0.0/8"], "scrape-token-123", "Bearer wrong", 403),
        (["127.0.0.0/8"], "", None, 200),
    ],
)
async def test_metrics_needs_token_or_allowed_address(async_client, use_config, allow, token, header, status):

    use_config({"metrics-allow": allow, "metrics-token": token})
    headers = {"Authorization": header} if header else {}

    response = await async_client.get("/tracker/metrics", headers=headers)

    assert response.status_code == status


async def test_metrics_show_how_long_ago_a_worker_was_alive(async_client):
    import time

    from tracker.encoders import store
    from tracker.ops import site_health

    before = (await async_client.get("/tracker/metrics")).content.decode()
    await site_health.stamp_worker(store.get_redis(), now=time.time() - 42, name="w")
    after = (await async_client.get("/tracker/metrics")).content.decode()

    assert "# TYPE streaming_worker_seen_seconds_ago gauge" in before
    assert "streaming_worker_seen_seconds_ago" not in samples(before)  # no worker ever ran
    assert 42 <= samples(after)["streaming_worker_seen_seconds_ago"] < 43


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool (Debian: apt-get install prometheus)")
async def test_metrics_pass_promtool_check_metrics(async_client):
    await report("example", "cam", STREAM)
    await report("hall-2", "unknown-rate", stream("https://a/y.ogg", format="audio", clients=2, bitrate=None))

    text = (await async_client.get("/tracker/metrics")).content.decode()
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)

    assert checked.returncode == 0, checked.stdout + checked.stderr
