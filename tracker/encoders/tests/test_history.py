"""Clients and bitrate history: one point per step, trimmed by time."""

import pytest

from testing.factories import ROOMS, report, stream
from testing.processes import TEST_SECRET
from tracker.encoders import history, store

STREAM = stream(clients=3, bitrate=1000)


@pytest.mark.usefixtures("redis")
async def test_history_one_point_per_room_per_step():
    redis = store.get_redis()
    await report("example", "a", STREAM, now=1000.0)
    await report("example", "b", {**STREAM, "url": "https://b/x.m3u8", "clients": 4}, now=1000.0)

    first = await history.add_points(redis, rooms=ROOMS, now=1001.0, keep_hours=24)
    again = await history.add_points(redis, rooms=ROOMS, now=1009.0, keep_hours=24)  # same 10 s step
    series = await history.room_series(redis, ROOMS, since=0)

    assert (first, again) == (True, False)
    # bitrate: the streams' encoding bitrates summed; bandwidth: clients x bitrate, nothing measured.
    assert series == {"example": [(1000.0, 7, 2000, 7000, 0)], "hall-2": [(1000.0, 0, 0, 0, 0)]}


@pytest.mark.usefixtures("redis")
async def test_history_keeps_per_encoder_series():
    redis = store.get_redis()
    await report("example", "a", STREAM, now=1000.0)
    await history.add_points(redis, rooms=ROOMS, now=1000.0, keep_hours=24)
    await history.add_points(redis, rooms=ROOMS, now=1010.0, keep_hours=24)

    series = await history.encoder_series(redis, ["example/a"], since=1005.0)

    assert series == {"example/a": [(1010.0, 3, 1000, 3000, 0)]}


@pytest.mark.usefixtures("redis")
async def test_history_tells_measured_bandwidth_from_encoding_bitrate():
    redis = store.get_redis()
    # An nginx-rtmp style stream: encoded at 2 Mbit/s, 5 Mbit/s going out to its players.
    await report("example", "a", {**STREAM, "bitrate": 2_000_000, "bandwidth": 5_000_000}, now=1000.0)
    await history.add_points(redis, rooms=ROOMS, now=1000.0, keep_hours=24)

    series = await history.room_series(redis, ["example"], since=0)

    assert series == {"example": [(1000.0, 3, 2_000_000, 5_000_000, 0)]}


async def test_history_counts_legacy_counted_only_streams_and_overall_totals(async_client):
    from tracker.tests.legacy.original_client import original_data, original_form

    data = original_data([("http-webm-high", 2, 1e6, 5e5), ("http-flv-high", 3, 1.5e6, 5e5)])
    await async_client.post(
        "/tracker/endpoint/register",
        original_form(data, secret=TEST_SECRET, group="example"),
        content_type="application/x-www-form-urlencoded",
    )
    await history.add_points(store.get_redis(), rooms=ROOMS, now=1000.0, keep_hours=24)

    (point,) = (await history.room_series(store.get_redis(), ["example"], since=0))["example"]

    # Clients and bandwidth from overall_*, FLV's included; bitrate: the offered WebM's encoding rate.
    assert point == (1000.0, 5, 500_000, 2_500_000, 0)


async def test_history_trims_points_older_than_the_retention(redis_client):
    redis = store.get_redis()
    hour = 3600
    for step in range(0, 3 * hour, 60):
        await history.add_points(redis, rooms=["example"], now=10_000.0 + step, keep_hours=1)

    oldest = (await history.room_series(redis, ["example"], since=0))["example"][0][0]

    # Trimming is approximate (whole radix-tree nodes), never more than asked.
    assert 10_000.0 + 3 * hour - oldest <= 2 * hour
    assert redis_client.xlen("streaming:hist:room:example") < 180


async def test_history_api_returns_series_and_checks_range(async_client):
    ok = await async_client.get("/tracker/api/history?range=10&room=example")
    bad = await async_client.get("/tracker/api/history?range=abc")
    unknown = await async_client.get("/tracker/api/history?room=nowhere")

    assert ok.status_code == 200
    assert set(ok.json()["rooms"]) == {"example"}
    assert (bad.status_code, bad.json()["field"]) == (400, "range")
    assert unknown.status_code == 404


@pytest.mark.usefixtures("redis")
async def test_history_keeps_the_tabs_on_this_site_apart_from_the_streaming_servers_clients():
    redis = store.get_redis()
    await report("example", "a", STREAM, now=1000.0)
    await store.set_viewer_counts(redis, {"example": 12, "hall-2": 2})
    await history.add_points(redis, rooms=ROOMS, now=1000.0, keep_hours=24)

    series = await history.room_series(redis, ROOMS, since=0)

    assert series == {"example": [(1000.0, 3, 1000, 3000, 12)], "hall-2": [(1000.0, 0, 0, 0, 2)]}
