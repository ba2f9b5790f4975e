from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.schedule import Event, ScheduleError, next_boundary, now_and_next, with_fillers

from .support import utc


def talk(guid: str, start: datetime, minutes: int, *, generated: bool = False) -> Event:
    return Event(
        guid=guid, title=guid, start=start, end=start + timedelta(minutes=minutes), room="R", generated=generated
    )


A = talk("a", utc(2024, 5, 1, 8), 60)
B = talk("b", utc(2024, 5, 1, 9), 60)
C = talk("c", utc(2024, 5, 1, 11), 30)


def test_now_and_next_talk_starting_exactly_now_is_current_not_next() -> None:
    state = now_and_next([A, B, C], now=B.start)

    assert (state.current, state.next) == (B, C)


def test_now_and_next_at_end_instant_previous_talk_is_over() -> None:
    state = now_and_next([A, C], now=A.end)

    assert (state.current, state.next) == (None, C)


def test_now_and_next_inside_a_talk() -> None:
    state = now_and_next([A, B, C], now=A.start + timedelta(minutes=59))

    assert (state.current, state.next) == (A, B)


def test_now_and_next_before_everything_and_after_everything() -> None:
    assert now_and_next([A, B], now=utc(2024, 5, 1)) == now_and_next([B, A], now=utc(2024, 5, 1))
    assert now_and_next([A, B], now=utc(2024, 5, 1)).next == A
    assert now_and_next([A, B], now=utc(2024, 5, 2)).current is None


def test_now_and_next_filler_is_current_but_never_next() -> None:
    events = with_fillers([A, C], now=A.start, timezone="Europe/Berlin")

    in_break = now_and_next(events, now=A.end)
    before = now_and_next(events, now=utc(2024, 5, 1, 5))

    assert (in_break.current.filler, in_break.next) == ("break", C)
    assert (before.current.filler, before.next) == ("before", A)


def test_now_and_next_across_midnight_talk_is_current_after_midnight() -> None:
    late = talk("late", utc(2024, 5, 1, 21, 30), 90)  # 23:30 to 01:00 CEST

    state = now_and_next([late], now=utc(2024, 5, 1, 22, 30))  # 00:30 CEST

    assert state.current == late


def test_now_and_next_on_dst_change_uses_elapsed_time() -> None:
    # 01:30 CET + 2 h ends 04:30 CEST; at 04:15 CEST (02:15 UTC) it is still running.
    night = talk("night", utc(2024, 3, 31, 0, 30), 120)

    assert now_and_next([night], now=utc(2024, 3, 31, 2, 15)).current == night
    assert now_and_next([night], now=utc(2024, 3, 31, 2, 30)).current is None


def test_now_and_next_empty_schedule() -> None:
    assert now_and_next([], now=utc(2024, 5, 1)) == now_and_next([A], now=utc(2025, 1, 1))


def test_now_and_next_naive_now_raises_schedule_error() -> None:
    with pytest.raises(ScheduleError, match="timezone-aware"):
        now_and_next([A], now=utc(2024, 5, 1).replace(tzinfo=None))


def test_next_boundary_is_the_next_start_or_end() -> None:
    assert next_boundary([A, C], now=A.start) == A.end
    assert next_boundary([A, C], now=A.end) == C.start
    assert next_boundary([A, C], now=C.end) is None


START = utc(2024, 5, 1)
events_strategy = st.lists(
    st.builds(
        lambda index, offset, length, generated: talk(
            f"e{index}", START + timedelta(minutes=offset), length, generated=generated
        ),
        st.integers(0, 10**6),
        st.integers(0, 600),
        st.integers(0, 120),
        st.booleans(),
    ),
    max_size=12,
    unique_by=lambda event: event.guid,
)


@settings(database=None)
@given(events_strategy, st.integers(-60, 800))
def test_now_and_next_invariants_hold(events: list[Event], minute: int) -> None:
    now = START + timedelta(minutes=minute)

    state = now_and_next(events, now=now)

    running = [e for e in events if e.start <= now < e.end]
    upcoming = [e for e in events if not e.generated and e.start > now]
    if state.current is None:
        assert not running
    else:
        assert state.current.start <= now < state.current.end
        assert not state.current.generated or all(e.generated for e in running)
    if state.next is None:
        assert not upcoming
    else:
        assert not state.next.generated and state.next.start > now
        assert state.next.start == min(e.start for e in upcoming)


@settings(database=None)
@given(events_strategy, st.integers(-60, 800))
def test_next_boundary_nothing_changes_before_it(events: list[Event], minute: int) -> None:
    now = START + timedelta(minutes=minute)

    boundary = next_boundary(events, now=now)

    later = boundary - timedelta(seconds=1) if boundary else now + timedelta(days=1)
    if later > now:
        assert now_and_next(events, now=later) == now_and_next(events, now=now + timedelta(microseconds=1))
