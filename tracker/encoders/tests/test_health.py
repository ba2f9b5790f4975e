"""The encoder state machine at exact boundaries, with the clock in the test's hands."""

import pytest

from testing.factories import stream
from tracker.encoders.heartbeat import Heartbeat
from tracker.encoders.state_machine import (
    Identity,
    Record,
    State,
    Thresholds,
    after_deadline,
    after_disconnect,
    after_heartbeat,
)

IDENTITY = Identity(name="cam", room="example", role="encoder", grace=5)
THRESHOLDS = Thresholds(silence=30, no_streams=60)
STREAM = stream()


def beat(
    previous: Record | None, *, now: float, interval: int = 10, metrics: dict | None = None, streams: list | None = None
):
    sent = Heartbeat("example", "cam", interval, [STREAM] if streams is None else streams, metrics or {})
    return after_heartbeat(previous, sent, identity=IDENTITY, thresholds=THRESHOLDS, now=now)


def test_health_first_heartbeat_is_up_with_transition():
    record, transition = beat(None, now=100.0)

    assert (record.state, record.since, record.seq) == (State.UP, 100.0, 1)
    assert (transition.old, transition.new, transition.reason) == (None, State.UP, "first heartbeat")
    assert record.public_report() == {"streams": [{"format": "hls", "url": "https://a/x.m3u8"}]}


def test_health_up_turns_late_a_tolerance_after_the_interval():
    record, _ = beat(None, now=100.0)  # interval 10, grace 5: tolerance 2.5 s

    assert after_deadline(record, now=112.499) is None
    late, transition = after_deadline(record, now=112.5)

    assert (late.state, transition.old, transition.new) == (State.LATE, State.UP, State.LATE)
    assert late.public_report() is not None  # late viewers still get its streams


def test_health_late_turns_down_exactly_at_interval_plus_grace():
    late, _ = after_deadline(beat(None, now=100.0)[0], now=112.5)

    assert after_deadline(late, now=114.999) is None
    down, transition = after_deadline(late, now=115.0)

    assert (down.state, transition.new) == (State.DOWN, State.DOWN)
    assert transition.reason == "no heartbeat for 15 s"
    assert down.public_report() is None
    assert down.deadline() is None


def test_health_heartbeat_while_late_is_up_again():
    late, _ = after_deadline(beat(None, now=100.0)[0], now=112.5)

    record, transition = beat(late, now=113.0)

    assert (record.state, transition.old, transition.reason) == (State.UP, State.LATE, "heartbeat after late")
    assert record.deadline() == 125.5


def test_health_steady_heartbeats_make_no_transitions():
    record, _ = beat(None, now=100.0)

    again, transition = beat(record, now=110.0)

    assert transition is None
    assert (again.since, again.last_seen, again.seq) == (100.0, 110.0, 2)


@pytest.mark.parametrize(
    "before, now_metrics, reason",
    [
        ({}, {"silence": 30}, "silent for 30 s"),
        ({"dropped_frames": 10}, {"dropped_frames": 25}, "dropped frames rising (+15)"),
        ({}, {"errors": [{"source": "icecast", "reason": "connection refused"}]}, "icecast: connection refused"),
    ],
)
def test_health_metrics_over_thresholds_degrade(before, now_metrics, reason):
    record, _ = beat(None, now=100.0, metrics=before)

    degraded, transition = beat(record, now=110.0, metrics=now_metrics)

    assert (degraded.state, degraded.reason) == (State.DEGRADED, reason)
    assert transition.new == State.DEGRADED
    assert degraded.public_report() is not None


@pytest.mark.parametrize("metrics", [{"silence": 29}, {"dropped_frames": 10}])
def test_health_metrics_under_thresholds_stay_up(metrics):
    record, _ = beat(None, now=100.0, metrics={"dropped_frames": 10})

    assert beat(record, now=110.0, metrics=metrics)[0].state == State.UP


def test_health_disconnect_is_immediate_then_down_after_grace():
    record, _ = beat(None, now=100.0)

    gone, transition = after_disconnect(record, now=103.0)

    assert (gone.state, transition.reason) == (State.DISCONNECTED, "websocket closed")
    assert gone.public_report() is None
    assert after_deadline(gone, now=107.999) is None
    assert after_deadline(gone, now=108.0)[0].state == State.DOWN
    assert after_disconnect(gone, now=104.0) is None


def test_health_record_round_trips_through_json():
    record, _ = beat(None, now=100.0, metrics={"cpu": 12.5})

    assert Record.from_json(record.to_json()) == record


def test_health_no_playable_stream_degrades_exactly_after_the_configured_time():
    first, _ = beat(None, now=100.0, streams=[])  # no_streams: 60 s

    still, transition = beat(first, now=159.999, streams=[])
    degraded, change = beat(still, now=160.0, streams=[])

    assert (first.state, first.empty_since, transition) == (State.UP, 100.0, None)
    assert (degraded.state, degraded.reason) == (State.DEGRADED, "no playable stream for over 60 s")
    assert (change.old, change.new) == (State.UP, State.DEGRADED)


def test_health_mixers_and_collectors_report_no_stream_by_design():
    mixer = Identity(name="mix", room="example", role="mixer", grace=5)
    sent = Heartbeat("example", "mix", 10, [])
    first, _ = after_heartbeat(None, sent, identity=mixer, thresholds=THRESHOLDS, now=100.0)

    later, _ = after_heartbeat(first, sent, identity=mixer, thresholds=THRESHOLDS, now=1000.0)

    assert (later.state, later.empty_since) == (State.UP, None)


def test_health_a_playable_stream_ends_the_empty_period():
    empty, _ = beat(beat(None, now=100.0, streams=[])[0], now=170.0, streams=[])

    playing, transition = beat(empty, now=180.0)
    empty_again, _ = beat(playing, now=190.0, streams=[])

    assert (playing.state, playing.empty_since, transition.new) == (State.UP, None, State.UP)
    assert (empty_again.state, empty_again.empty_since) == (State.UP, 190.0)


def test_health_empty_period_starts_over_after_the_encoder_was_down():
    empty, _ = beat(None, now=100.0, streams=[])
    down = after_deadline(after_deadline(empty, now=112.5)[0], now=115.0)[0]

    back, _ = beat(down, now=1000.0, streams=[])

    assert (back.state, back.empty_since) == (State.UP, 1000.0)


def test_health_totals_keep_bandwidth_apart_from_encoding_bitrate():
    measured = {"format": "hls", "url": "https://a/x.m3u8", "clients": 3, "bitrate": 2_000_000, "bandwidth": 5_000_000}
    computed = {"format": "webm", "url": "https://a/x.webm", "clients": 2, "bitrate": 1_000_000}

    record, _ = beat(None, now=100.0, streams=[measured, computed])

    assert record.totals == {"clients": 5, "bandwidth": 7_000_000}
    assert (record.clients, record.bandwidth) == (5, 7_000_000)
