"""What happened, from a room's log: state timelines with durations, time per state and per day.

The room's log (a Redis stream, kept `history-hours`) holds every state
transition of its encoders and every operator's action. A transition says
which state an encoder left and entered, and when; so each encoder's
timeline is the states between its transitions, the first one reaching
back to the start of the kept history (it held its old state since then:
the log kept every change since) and the last one up to now. A room is in
the best state of its encoders at each moment (one encoder up is enough to
be on air). Pure functions: the views read Redis and hand the entries in.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytz

# Best first: a room is in the best state any of its encoders is in.
STATES = ("up", "degraded", "late", "disconnected", "down")
RANK = {state: rank for rank, state in enumerate(STATES)}


@dataclass(frozen=True)
class Segment:
    state: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def read_entries(entries: list[tuple[str, dict[str, str]]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A log's transitions and operators' actions (oldest first); unreadable entries are left out."""
    transitions: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for _, fields in entries:
        for kind, found in (("transition", transitions), ("action", actions)):
            try:
                value = json.loads(fields[kind]) if kind in fields else None
            except ValueError:
                value = None
            if isinstance(value, dict) and isinstance(value.get("at"), (int, float)):
                found.append(value)
    return transitions, actions


def encoder_segments(
    transitions: list[dict[str, Any]], *, start: float, now: float, current: str | None
) -> list[Segment]:
    """One encoder's states from `start` to `now`; its transitions oldest first, `current` its state now."""
    segments = []
    state, since = None, start
    if transitions and transitions[0].get("old") in RANK:
        state = transitions[0]["old"]  # held since before the kept history
    for transition in transitions:
        at = min(max(transition["at"], start), now)
        if state is not None and at > since:
            segments.append(Segment(state, since, at))
        state, since = transition["new"], at
    if not transitions and current is not None:
        state = current  # no change in the kept history: in this state all along
    if state is not None and now > since:
        segments.append(Segment(state, since, now))
    return [segment for segment in segments if segment.state in RANK]


def room_segments(lanes: list[list[Segment]]) -> list[Segment]:
    """The best state of any encoder at each moment, as one timeline (times no encoder was known left out)."""
    moments = sorted({t for lane in lanes for segment in lane for t in (segment.start, segment.end)})
    # One cursor per lane: its segments follow one another, so each moves forward only.
    cursors = [0] * len(lanes)
    merged: list[Segment] = []
    for start, end in itertools.pairwise(moments):
        present = []
        for number, lane in enumerate(lanes):
            while cursors[number] < len(lane) and lane[cursors[number]].end <= start:
                cursors[number] += 1
            if cursors[number] < len(lane) and lane[cursors[number]].start <= start:
                present.append(lane[cursors[number]].state)
        if not present:
            continue
        best = min(present, key=RANK.__getitem__)
        if merged and merged[-1].state == best and merged[-1].end == start:
            merged[-1] = Segment(best, merged[-1].start, end)
        else:
            merged.append(Segment(best, start, end))
    return merged


def time_in_states(segments: list[Segment]) -> dict[str, float]:
    seconds: dict[str, float] = defaultdict(float)
    for segment in segments:
        seconds[segment.state] += segment.seconds
    return {state: seconds[state] for state in STATES if seconds[state]}


def per_day(segments: list[Segment], zone: str) -> list[tuple[str, dict[str, float]]]:
    """Time per state for each calendar day in `zone` (days split at local midnight), oldest first."""
    tz = pytz.timezone(zone)
    days: dict[str, list[Segment]] = defaultdict(list)
    for segment in segments:
        start = segment.start
        while start < segment.end:
            local = datetime.fromtimestamp(start, tz)
            midnight = tz.normalize(tz.localize(datetime(local.year, local.month, local.day) + timedelta(days=1)))
            end = min(segment.end, midnight.timestamp())
            days[local.strftime("%Y-%m-%d")].append(Segment(segment.state, start, end))
            start = end
    return [(day, time_in_states(days[day])) for day in sorted(days)]


def uptime(seconds: dict[str, float]) -> tuple[float, float]:
    """Time up, and time known, of a time-per-state table."""
    return seconds.get("up", 0.0), sum(seconds.values())


def with_durations(transitions: list[dict[str, Any]], *, now: float) -> list[dict[str, Any]]:
    """Each transition with how long its new state lasted (`lasted`, None while it still holds)."""
    nexts: dict[str, float] = {}
    rows = []
    for transition in reversed(transitions):
        name = transition.get("name", "")
        rows.append({**transition, "lasted": nexts[name] - transition["at"] if name in nexts else None})
        nexts[name] = transition["at"]
    return rows[::-1]
