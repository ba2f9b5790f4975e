"""The table of room states (docs/architecture.md), one test per row."""

from __future__ import annotations

from typing import Any

import pytest

from tracker.encoders.state_machine import Record, State
from tracker.live import audience, room_state
from tracker.live.room_state import RoomState, Severity

HLS = {"format": "hls", "quality": "hd", "url": "https://a.example/room.m3u8"}
WEBM = {"format": "webm", "quality": "hd", "url": "https://a.example/room.webm"}


def encoder(name: str, state: State, *streams: dict[str, Any], role: str = "encoder") -> Record:
    return Record(
        room="hall", name=name, role=role, state=state, since=0, last_seen=0, interval=5, grace=5, streams=list(streams)
    )


def test_every_encoder_and_stream_fine_is_on_air():
    verdict = room_state.room_state([encoder("a", State.UP, HLS, WEBM), encoder("b", State.UP, HLS)], talk_on=True)
    assert (verdict.state, verdict.severity, verdict.reasons) == (RoomState.ON_AIR, Severity.OK, [])
    assert verdict.label == "on air"


def test_a_lost_backup_is_redundancy_lost_never_down():
    records = [encoder("a", State.UP, HLS), encoder("b", State.UP, HLS), encoder("c", State.DOWN, HLS)]
    verdict = room_state.room_state(records, talk_on=True)
    assert verdict.state == RoomState.REDUNDANCY_LOST
    assert verdict.severity == Severity.WARNING
    assert verdict.reasons == ["c down"]
    assert verdict.to_dict()["public"] == "on-air"  # viewers can watch: they are not told


def test_a_degraded_or_disconnected_encoder_still_streaming_is_redundancy_lost():
    records = [encoder("a", State.DISCONNECTED, HLS), encoder("b", State.DEGRADED, HLS), encoder("c", State.UP, HLS)]
    verdict = room_state.room_state(records, talk_on=False)
    assert (verdict.state, verdict.reasons) == (RoomState.REDUNDANCY_LOST, ["a disconnected", "b degraded"])


def test_a_late_encoder_is_no_failure_of_the_room_yet():
    # One missed heartbeat: back to up, or down within the grace. Its streams are still offered.
    records = [encoder("a", State.LATE, HLS), encoder("b", State.UP, HLS)]
    assert room_state.room_state(records, talk_on=True).state == RoomState.ON_AIR


def test_a_format_nobody_streams_any_more_is_a_format_lost():
    records = [encoder("a", State.UP, HLS), encoder("b", State.DOWN, WEBM)]
    verdict = room_state.room_state(records, talk_on=True)
    assert (verdict.state, verdict.severity) == (RoomState.FORMAT_LOST, Severity.ERROR)
    assert verdict.reasons == ["no webm stream", "b down"]


def test_no_playable_stream_during_a_talk_is_the_loudest_state():
    records = [encoder("a", State.DOWN, HLS), encoder("b", State.DISCONNECTED, HLS)]
    verdict = room_state.room_state(records, talk_on=True)
    assert (verdict.state, verdict.severity) == (RoomState.OFF_AIR_TALK, Severity.CRITICAL)
    assert verdict.label == "off air during a talk"
    assert max(room_state.SEVERITY.values(), key=list(Severity).index) == verdict.severity


def test_no_playable_stream_outside_the_programme_is_quiet():
    verdict = room_state.room_state([encoder("a", State.DOWN, HLS)], talk_on=False)
    assert (verdict.state, verdict.severity, verdict.to_dict()["public"]) == (RoomState.OFF_AIR, Severity.OK, "off-air")


def test_live_encoders_without_streams_are_off_air():
    # A mixer reports no stream, an encoder can be up with none: nothing to watch.
    records = [encoder("mix", State.UP, role="mixer"), encoder("a", State.UP)]
    assert room_state.room_state(records, talk_on=True).state == RoomState.OFF_AIR_TALK


def test_viewers_failing_overlays_a_room_on_air():
    records = [encoder("a", State.UP, HLS)]
    verdict = room_state.room_state(records, talk_on=True, viewers_failing=True)
    assert (verdict.state, verdict.severity) == (RoomState.VIEWERS_FAILING, Severity.ERROR)
    assert verdict.to_dict()["public"] == "viewers-failing"
    # Off air, failing players are no news: nothing plays.
    assert room_state.room_state([], talk_on=True, viewers_failing=True).state == RoomState.OFF_AIR_TALK


def test_a_room_without_encoders_is_a_setup_problem_unless_a_talk_is_on():
    verdict = room_state.room_state([], talk_on=False)
    assert (verdict.state, verdict.severity) == (RoomState.NO_ENCODERS, Severity.WARNING)
    assert room_state.room_state([], talk_on=True).state == RoomState.OFF_AIR_TALK


@pytest.mark.parametrize(
    ("nownext", "on"),
    [
        (None, False),
        ({"now": None, "next": {"title": "t"}}, False),
        ({"now": {"title": "Break", "generated": True}}, False),
        ({"now": {"title": "A talk", "generated": False}}, True),
    ],
)
def test_a_talk_is_on_when_the_programme_has_one_that_is_not_a_filler(nownext, on):
    assert room_state.talk_on(nownext) is on


@pytest.mark.parametrize(
    ("playable", "talk", "judged", "public"),
    [
        (True, True, "on-air", "on-air"),
        (True, False, "viewers-failing", "viewers-failing"),
        (False, True, "viewers-failing", "off-air-talk"),  # off air follows the streams at once
        (False, False, "on-air", "off-air"),
        (True, True, None, "on-air"),
    ],
)
def test_viewers_pages_follow_the_streams_at_once_and_the_worker_for_failing(playable, talk, judged, public):
    assert room_state.public_state(playable=playable, talk_on=talk, judged=judged) == public


def tab(address: str, name: str, *, state: str = "", failed: float | None = None) -> audience.Tab:
    t = audience.Tab(room="hall", tab=name, address=address, state=state)
    if failed is not None:
        t.failed(format="hls", error="manifestLoadError", now=failed)
    return t


def failing(tabs: list[audience.Tab], *, now: float = 100.0) -> bool:
    figures = audience.process_counts(tabs, now=now, windows={"hall": 30})["hall"]
    return audience.viewers_failing(figures, clients=3, percent=50)


def test_three_distinct_addresses_failing_are_viewers_failing():
    tabs = [tab(f"127.0.0.{i}", f"tab-{i}", state="error", failed=90) for i in (2, 3, 4)]
    tabs += [tab(f"10.0.0.{i}", f"ok-{i}", state="playing") for i in range(10)]
    assert failing(tabs)


def test_one_address_counts_once_however_many_tabs():
    assert not failing([tab("127.0.0.2", f"tab-{i}", state="error", failed=90) for i in range(10)])


def test_half_of_the_reporting_clients_failing_is_enough_with_two_addresses():
    assert failing(
        [tab("127.0.0.2", "a", state="error", failed=90), tab("127.0.0.3", "b", state="buffering", failed=95)]
    )
    assert not failing(
        [tab("127.0.0.2", "a", state="error", failed=90)]
        + [tab("127.0.0.3", "b", state="playing")] * 1
        + [tab(f"10.0.0.{i}", f"c{i}", state="playing") for i in range(3)]
    )


def test_failures_clear_when_players_recover_or_the_window_passes():
    tabs = [tab(f"127.0.0.{i}", f"tab-{i}", state="error", failed=90) for i in (2, 3, 4)]
    assert failing(tabs, now=200)  # still in error: failing however long ago it began
    for t in tabs:
        t.state = "buffering"  # retrying, or a viewer's report: failing for the window
    assert failing(tabs, now=119)
    assert not failing(tabs, now=121)  # 31 s after the last failure
    for t in tabs:
        t.state = "playing"
    assert not failing(tabs, now=95)


def test_the_evidence_counts_each_failing_client_once_with_format_and_error():
    tabs = [tab("127.0.0.2", "a", state="error", failed=90), tab("127.0.0.2", "b", state="error", failed=91)]
    figures = audience.process_counts(tabs, now=100, windows={})["hall"]
    assert figures["failing"] == 1 and figures["clients"] == 1 and figures["viewers"] == 2
    assert figures["evidence"] == [{"tabs": 2, "format": "hls", "error": "manifestLoadError"}]
    assert "127.0.0.2" not in str(figures)  # counted, never passed on
