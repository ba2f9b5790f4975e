"""A room's or an encoder's history, read from Redis and put in the words of the history pages.

Everything comes from what the site keeps anyway, for `history-hours` (at
most 14 days): the room's log (transitions and operators' actions, trimmed
by time on every write) and the clients/bandwidth series (one point per
10 s step, trimmed by time too). Redis persists them (ops/redis: an
append-only file), so history survives restarts of the site and of Redis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from tracker.config import Room, get_config
from tracker.encoders import history, store
from tracker.ops import timeline, units
from tracker.programme.sync import timezone_of

# The newest log entries read for one page: bounds the work of a flapping encoder's page.
MAX_LOG_ENTRIES = 5000
# Rows of "what happened" on a page (the CSV export has them all).
EVENTS_SHOWN = 500
# Points drawn in a chart (the CSV export has every point).
CHART_POINTS = 360


@dataclass
class History:
    room: Room
    encoder: str | None
    zone: str
    start: float
    now: float
    lanes: dict[str, list[timeline.Segment]] = field(default_factory=dict)  # encoder (or "" for the room) -> timeline
    transitions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    points: list[history.Point] = field(default_factory=list)  # every point: for the CSV export
    buckets: list[history.Bucket] = field(default_factory=list)  # the points summed up: for the chart
    bucket_seconds: float = history.STEP_SECONDS

    @property
    def segments(self) -> list[timeline.Segment]:
        """The page's own timeline: the encoder's, or the room's best state."""
        if self.encoder is not None:
            return self.lanes.get(self.encoder, [])
        return timeline.room_segments(list(self.lanes.values()))


async def read(
    redis: Redis, room: Room, encoder: str | None, *, now: float, hours: int | None = None, series: str | None = None
) -> History:
    """The room's (or encoder's) history over the last `hours`, at most what is kept.

    `series`: "buckets" for the chart, "points" for the export, None for neither.
    """
    kept = get_config().settings["history-hours"]
    start = now - min(hours or kept, kept) * 3600
    entries = await redis.xrevrange(store.key("log", room.name), count=MAX_LOG_ENTRIES)
    transitions, actions = timeline.read_entries(entries[::-1])
    if encoder is not None:
        transitions = [t for t in transitions if t.get("name") == encoder]
        actions = [a for a in actions if a.get("name") in (encoder, None)]
    records = {record.name: record.state for record in await store.read_records(redis, room=room.name)}
    named = {t["name"] for t in transitions if isinstance(t.get("name"), str) and t["name"]}  # not room-wide ones
    names = [encoder] if encoder is not None else sorted({*records, *named})
    lanes = {
        name: timeline.encoder_segments(
            [t for t in transitions if t.get("name") == name], start=start, now=now, current=records.get(name)
        )
        for name in names
    }
    stream = (
        store.key("hist", "room", room.name) if encoder is None else store.key("hist", "enc", f"{room.name}/{encoder}")
    )
    points, buckets = [], []
    bucket_seconds = max(history.STEP_SECONDS, (now - start) / CHART_POINTS)
    if series == "points":
        [points] = await history.read_series(redis, [stream], since=start)
    elif series == "buckets":
        buckets = await history.buckets(redis, stream, since=start, until=now, seconds=bucket_seconds)
    # Drawn from the first moment anything is known: a site that ran for an hour shows that hour.
    known = [lane[0].start for lane in lanes.values() if lane] + [p[0] for p in [*points[:1], *buckets[:1]]]
    shown_from = min([*known, now - 60])
    # Older entries told the states at the start; the page lists only the period's own.
    transitions = [t for t in transitions if t["at"] >= start]
    actions = [a for a in actions if a["at"] >= start]
    return History(
        room, encoder, timezone_of(room), shown_from, now, lanes, transitions, actions, points, buckets, bucket_seconds
    )


def bar(segments: list[timeline.Segment], *, start: float, now: float, zone: str) -> list[dict[str, Any]]:
    """A timeline as positioned pieces (percent of the page's time range), each with its words."""
    span = max(now - start, 1)
    return [
        {
            "state": s.state,
            "left": round(100 * (s.start - start) / span, 3),
            "width": round(100 * s.seconds / span, 3),
            "label": f"{s.state} {units.local(s.start, zone, '%d %b %H:%M:%S')} to "
            f"{units.local(s.end, zone, '%H:%M:%S')} ({units.duration(s.seconds)})",
        }
        for s in segments
    ]


def state_table(seconds: dict[str, float]) -> dict[str, Any]:
    up, known = timeline.uptime(seconds)
    return {
        "uptime": units.percent(up, known),
        "known": units.duration(known),
        "states": [(state, units.duration(seconds.get(state, 0))) for state in timeline.STATES],
    }


def chart(buckets: list[history.Bucket], *, width: float, start: float, now: float, zone: str) -> dict[str, Any]:
    """Peak clients and outgoing bandwidth per bucket (of `width` seconds) as SVG step lines (0-1000 by 0-100),
    with a label per bucket."""
    span = max(now - start, 1)
    top_clients = max((b[1] for b in buckets), default=0) or 1
    top_bandwidth = max((b[3] for b in buckets), default=0) or 1

    def x(at: float) -> float:
        return round(1000 * (at - start) / span, 1)

    def label(b: history.Bucket) -> str:
        many = b[5] > 1  # a bucket of several steps: its peaks
        return (
            f"{units.local(b[0], zone, '%d %b %H:%M')}: {'up to ' if many else ''}{b[1]} clients, "
            f"{'up to ' if many else ''}{units.bitrate(b[3])} out, encoded at {units.bitrate(b[2])}"
        )

    def steps(value: int, top: int) -> str:
        """A level across each bucket's width, so even one bucket is a visible line."""
        levels = [(b[0], round(100 - 95 * b[value] / top, 1)) for b in buckets]
        return " ".join(f"{x(at)},{y} {x(min(at + width, now))},{y}" for at, y in levels)

    return {
        "clients": steps(1, top_clients),
        "bandwidth": steps(3, top_bandwidth),
        "top_clients": top_clients if buckets else 0,
        "top_bandwidth": units.bitrate(top_bandwidth if buckets else 0),
        "points": [{"x": x(b[0]), "label": label(b)} for b in buckets],
        "sent": units.data_size(sum(b[4] for b in buckets) * history.STEP_SECONDS / 8),
    }


def page(data: History) -> dict[str, Any]:
    """Everything the history template shows."""
    zone, start, now = data.zone, data.start, data.now
    segments = data.segments
    lanes = (
        {}
        if data.encoder is not None
        else {name: bar(lane, start=start, now=now, zone=zone) for name, lane in data.lanes.items()}
    )
    events = [
        {"at": t["at"], "kind": "transition", **t} for t in timeline.with_durations(data.transitions, now=now)
    ] + [{"kind": a.get("kind", "action"), **a} for a in data.actions]
    events.sort(key=lambda event: event["at"], reverse=True)
    return {
        "zone": zone,
        "from": units.local(start, zone, "%d %b %H:%M"),
        "to": units.local(now, zone, "%d %b %H:%M"),
        "timeline": bar(segments, start=start, now=now, zone=zone),
        "lanes": lanes,
        "overall": state_table(timeline.time_in_states(segments)),
        "days": [(day, state_table(seconds)) for day, seconds in timeline.per_day(segments, zone)],
        "events": [describe(event, zone) for event in events[:EVENTS_SHOWN]],
        "events_total": len(events),
        "chart": chart(data.buckets, width=data.bucket_seconds, start=start, now=now, zone=zone),
    }


def describe(event: dict[str, Any], zone: str) -> dict[str, str]:
    """One row of "what happened": when, which encoder, what, who."""
    kind = event["kind"]
    if kind == "transition":
        lasted = event.get("lasted")
        what = f"{event.get('old') or 'new'} → {event['new']}: {event.get('reason', '')}"
        detail = "still now" if lasted is None else f"for {units.duration(lasted)}"
        who = ""
    elif kind == "silence":
        what, detail = "silenced alerts", f"until {units.local(event.get('until', 0), zone, '%d %b %H:%M')}"
        who = event.get("by", "")
    elif kind == "unsilence":
        what, detail, who = "ended the silence", "", event.get("by", "")
    elif kind == "ack":
        what, detail, who = f"acknowledged ({event.get('state', '')})", "", event.get("by", "")
    elif kind == "note":
        what, detail, who = "note", event.get("text") or "(removed)", event.get("by", "")
    else:
        what, detail, who = kind, "", event.get("by", "")
    return {
        "at": units.local(event["at"], zone),
        "name": event.get("name") or "(room)",
        "kind": kind,
        "what": what,
        "detail": detail,
        "who": who,
    }


def csv_rows(data: History, what: str) -> list[list[Any]]:
    """The export: every transition and action, or every series point, times in the event's zone and UTC."""
    zone = data.zone
    if what == "series":
        header = ["time", "time_utc", "clients", "encoding_bit_per_s", "outgoing_bit_per_s"]
        return [header] + [
            [units.local(p[0], zone), units.local(p[0], "UTC", "%Y-%m-%dT%H:%M:%SZ"), p[1], p[2], p[3]]
            for p in data.points
        ]
    header = ["time", "time_utc", "encoder", "kind", "old", "new", "reason", "lasted_s", "by", "detail"]
    rows = []
    events = [{"kind": "transition", **t} for t in timeline.with_durations(data.transitions, now=data.now)]
    for event in sorted(events + [{"kind": "action", **a} for a in data.actions], key=lambda e: e["at"]):
        lasted = event.get("lasted")
        rows.append(
            [
                units.local(event["at"], zone),
                units.local(event["at"], "UTC", "%Y-%m-%dT%H:%M:%SZ"),
                event.get("name") or "",
                event["kind"],
                event.get("old") or "",
                event.get("new", ""),
                event.get("reason", ""),
                "" if lasted is None else round(lasted),
                event.get("by", ""),
                event.get("text") or (units.local(event["until"], zone) if "until" in event else ""),
            ]
        )
    return [header, *rows]
