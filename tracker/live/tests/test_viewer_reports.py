"""Viewers' reports: bounded in bytes, merged per client, budgeted per client and room, capped per room."""

import json

import pytest

from tracker.encoders import store
from tracker.live import viewer_reports
from tracker.safetext import escaped_bytes

ASTRAL = "\U0001f4a9"  # 4 bytes in UTF-8, 12 escaped as JSON


def worst_report(room: str = "example") -> dict:
    """A report whose every field is at its cap in the characters that cost most once escaped."""
    fields = {name: ASTRAL * (limit // 12) for name, limit in viewer_reports.REPORT_FIELDS.items()}
    return viewer_reports.parse_report({"room": room, "tab": "t" * 64, **fields})


def test_fields_are_capped_in_escaped_bytes_not_characters():
    limit = viewer_reports.REPORT_FIELDS["text"]
    assert escaped_bytes(ASTRAL) == 12
    viewer_reports.parse_report({"room": "example", "tab": "tab-01234567", "text": ASTRAL * (limit // 12)})
    with pytest.raises(viewer_reports.Refused, match=r"^text: .* bytes"):
        viewer_reports.parse_report({"room": "example", "tab": "tab-01234567", "text": ASTRAL * (limit // 12 + 1)})


@pytest.mark.usefixtures("redis")
async def test_a_stored_report_at_every_cap_stays_within_its_bound():
    redis = store.get_redis()
    for count in range(3):
        await viewer_reports.add_report(redis, worst_report(), address="198.51.100.1", now=1000.0 + count)

    [[_, stored]] = await viewer_reports.read_page(redis, "example")
    assert stored["count"] == 3
    assert len(json.dumps(stored)) <= viewer_reports.MAX_REPORT_BYTES  # escaped: the most it takes anywhere


@pytest.mark.usefixtures("redis")
async def test_a_clients_budget_outlives_its_sockets_and_covers_its_ipv6_64():
    redis = store.get_redis()
    report = worst_report()
    taken = [
        await viewer_reports.add_report(redis, report, address=f"2001:db8:7:8::{n + 1:x}", now=1000.0 + n)
        for n in range(viewer_reports.CLIENT_REPORTS + 3)
    ]

    assert all(taken[: viewer_reports.CLIENT_REPORTS]) and not any(taken[viewer_reports.CLIENT_REPORTS :])
    assert await viewer_reports.report_counts(redis, ["example"]) == {"example": 1}  # one client, merged
    [[_, merged]] = await viewer_reports.read_page(redis, "example")
    assert merged["count"] == viewer_reports.CLIENT_REPORTS
    assert await viewer_reports.add_report(redis, report, address="2001:db8:7:9::1", now=1010.0)  # another /64


@pytest.mark.usefixtures("redis")
async def test_a_rooms_budget_stops_a_crowd_then_refills(monkeypatch):
    redis = store.get_redis()
    report = worst_report()
    burst = viewer_reports.ROOM_BURST
    crowd = [
        await viewer_reports.add_report(redis, report, address=f"203.0.113.{n}", now=1000.0)
        for n in range(1, burst + 6)
    ]
    later = await viewer_reports.add_report(redis, report, address="198.51.100.50", now=1002.5)

    assert sum(1 for version in crowd if version) == burst
    assert later  # the bucket refilled: a real viewer gets through once the flood stops
    assert await viewer_reports.recent_reporters(redis, "example", since=1001.0) == 1


@pytest.mark.usefixtures("redis")
async def test_a_room_keeps_its_latest_reporters_only(monkeypatch):
    monkeypatch.setattr(viewer_reports, "ROOM_BURST", 10_000)
    redis = store.get_redis()
    report = worst_report()
    for n in range(viewer_reports.REPORTERS_KEPT + 20):
        await viewer_reports.add_report(redis, report, address=f"10.9.{n // 250}.{n % 250}", now=1000.0 + n)

    assert await viewer_reports.report_counts(redis, ["example"]) == {"example": viewer_reports.REPORTERS_KEPT}
    assert await redis.hlen(store.key("reports", "example", "by")) == viewer_reports.REPORTERS_KEPT
    page = await viewer_reports.read_page(redis, "example", offset=viewer_reports.REPORTERS_KEPT - 5)
    assert len(page) == 5
    assert len(json.dumps(page)) <= viewer_reports.PAGE_SIZE * viewer_reports.MAX_REPORT_BYTES


@pytest.mark.usefixtures("redis")
async def test_a_rooms_reports_go_history_hours_after_its_last_one():
    redis = store.get_redis()
    await viewer_reports.add_report(redis, worst_report(), address="198.51.100.1", now=1000.0)

    for key in (store.key("reports", "example"), store.key("reports", "example", "by")):
        assert 0 < await redis.ttl(key) <= store.history_hours() * 3600
