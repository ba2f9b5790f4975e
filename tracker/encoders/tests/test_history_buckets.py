"""A series summed up into buckets in Redis, slice by slice, equals the same sums made in Python."""

import pytest

from tracker.encoders import history, store


@pytest.mark.usefixtures("redis")
@pytest.mark.parametrize("slice_seconds", [history.SLICE_SECONDS, 70])  # one slice; slices cutting through the series
async def test_buckets_hold_the_peaks_and_sums_of_their_points(monkeypatch, slice_seconds):
    monkeypatch.setattr(history, "SLICE_SECONDS", slice_seconds)
    redis = store.get_redis()
    stream = store.key("hist", "room", "example")
    points = [(1000 + 10 * i, i % 7, 1000 * (i % 3), 500 * (i % 5)) for i in range(40) if i not in (11, 12, 13)]
    for at, clients, bitrate, bandwidth in points:
        await redis.xadd(stream, {"c": clients, "b": bitrate, "o": bandwidth}, id=f"{at * 1000}-0")

    buckets = await history.buckets(redis, stream, since=1000, until=1400, seconds=35)

    expected = {}
    for at, clients, bitrate, bandwidth in points:
        first, peak_c, peak_b, peak_o, total, count = expected.get((at - 1000) // 35, (at, 0, 0, 0, 0, 0))
        expected[(at - 1000) // 35] = (
            first,
            max(peak_c, clients),
            max(peak_b, bitrate),
            max(peak_o, bandwidth),
            total + bandwidth,
            count + 1,
        )
    assert buckets == [expected[index] for index in sorted(expected)]
