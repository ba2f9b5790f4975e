"""Heartbeats in, state transitions out: the tracker's write path.

Each change reads an encoder's record, computes its successor with the pure
functions of tracker.encoders.state_machine, and commits it with compare-and-set; on a
conflict (another writer was faster) it reads again and recomputes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from tracker.config import get_config
from tracker.encoders import client_budget, store
from tracker.encoders.heartbeat import Heartbeat
from tracker.encoders.identities import hash_token, identity_after_miss, read_identity
from tracker.encoders.state_machine import (
    Identity,
    Record,
    State,
    Thresholds,
    Transition,
    Unreadable,
    after_deadline,
    after_disconnect,
    after_heartbeat,
    after_outage,
    member_of,
)

MAX_ATTEMPTS = 5
Step = Callable[[Record | None], tuple[Record, Transition | None] | None]


@dataclass
class Refused(Exception):
    """A heartbeat that must not be stored, with what to tell the sender."""

    status: int
    error: str
    message: str
    field: str | None = None


class Unread:
    """The record has not been read yet (None would mean: there is none)."""


UNREAD = Unread()


async def update(
    redis: Redis, member: str, step: Step, *, now: float, previous: Record | Unread | None = UNREAD
) -> Transition | None:
    """Apply `step` to an encoder's record with compare-and-set, retrying on conflict.

    A caller that already read the record passes it as `previous`, saving a round trip.
    """
    log_since = now - get_config().settings["history-hours"] * 3600
    for _ in range(MAX_ATTEMPTS):
        if isinstance(previous, Unread):
            previous = await store.read_record(redis, member)
        result = step(previous)
        if result is None:
            return None
        record, transition = result
        public_changed = (previous.public_report() if previous else None) != record.public_report()
        try:
            committed = await store.commit(
                redis,
                expected_seq=previous.seq if previous else 0,
                record=record,
                public_changed=public_changed,
                transition=transition,
                log_since=log_since,
            )
        except Unreadable as exc:  # Python read the stored record, Lua could not: move it aside
            if text := await redis.hget(store.key("records"), member):
                await store.quarantine(redis, member, text, exc)
            committed = False
        if committed:
            return transition
        previous = UNREAD  # someone else wrote it meanwhile: read again
    # Only writers of this one encoder conflict, and five rounds lose only to
    # its own heartbeats sent side by side: the sender's doing, so a 4xx.
    raise Refused(409, "busy", "this encoder's heartbeats are racing each other: send one at a time")


async def accept(
    redis: Redis,
    *,
    identity: Identity,
    beat: Heartbeat,
    now: float,
    previous: Record | Unread | None = UNREAD,
) -> None:
    """Store a validated heartbeat from an authenticated encoder."""
    settings = get_config().settings
    thresholds = Thresholds(silence=settings["degraded-silence"], no_streams=settings["degraded-no-streams"])
    await update(
        redis,
        identity.member,
        lambda prev: after_heartbeat(prev, beat, identity=identity, thresholds=thresholds, now=now),
        now=now,
        previous=previous,
    )


READ_FOR_HEARTBEAT_LUA = store.load_script("read_for_heartbeat")


async def ingest(redis: Redis, *, token: str, beat: Heartbeat, now: float, client: str | None = None) -> None:
    """Authenticate, rate-limit and store a heartbeat; raises Refused.

    `client`: the sender's address, when its budget of refusals
    (tracker.encoders.client_budget) is to be checked in the same round trip;
    an encoder's socket had it checked once, when it connected."""
    token_hash = hash_token(token)
    identity_text, record_text, count = await READ_FOR_HEARTBEAT_LUA(
        keys=[
            store.key("tokens"),
            store.key("records"),
            store.key("rate", token_hash, str(int(now))),
            store.key("stats", "heartbeats"),
            client_budget.counter("heartbeat", client or ""),
        ],
        args=[token_hash, member_of(beat.room, beat.encoder), client_budget.REFUSALS["heartbeat"] if client else 0],
        client=redis,
    )
    if count < 0:
        raise Refused(429, "rate_limited", "too many refused heartbeats from here; wait a few seconds")
    config = get_config()
    if count > config.settings["heartbeat-rate"]:
        raise Refused(429, "rate_limited", f"at most {config.settings['heartbeat-rate']} heartbeats per second")
    identity = (
        read_identity(token_hash, identity_text) if identity_text else await identity_after_miss(redis, token_hash)
    )
    identity = check_identity(identity, beat)
    try:
        previous: Record | Unread | None = Record.from_json(record_text) if record_text else None
    except Unreadable:
        previous = UNREAD  # update() reads it again, and moves it aside
    await accept(redis, identity=identity, beat=beat, now=now, previous=previous)


async def accept_legacy(redis: Redis, *, identity: Identity, beat: Heartbeat, now: float) -> None:
    """Store a legacy register request, rate-limited per sender and room as tokens' heartbeats are."""
    rate_key = store.key("rate", "legacy", identity.room, identity.name, str(int(now)))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(rate_key)
        pipe.expire(rate_key, 2)
        pipe.incr(store.key("stats", "heartbeats"))
        count, _, _ = await pipe.execute()
    limit = get_config().settings["heartbeat-rate"]
    if count > limit:
        raise Refused(429, "rate_limited", f"at most {limit} heartbeats per second")
    await accept(redis, identity=identity, beat=beat, now=now)


def check_identity(identity: Identity | None, beat: Heartbeat) -> Identity:
    """The identity, if it may send this heartbeat; else Refused."""
    if identity is None:
        raise Refused(403, "forbidden", "token not accepted", "Authorization")
    if beat.room not in get_config().rooms:
        raise Refused(404, "unknown_room", f"no room named {beat.room!r}", "room")
    if beat.room != identity.room:
        raise Refused(403, "forbidden", f"this token is for room {identity.room!r}", "room")
    if beat.encoder != identity.name:
        raise Refused(403, "forbidden", f"this token is for encoder {identity.name!r}", "encoder")
    return identity


async def sweep(redis: Redis, *, now: float) -> list[Transition]:
    """Move every encoder whose deadline has passed; returns the transitions made here."""
    transitions = []
    for member in await store.due_members(redis, now=now):
        try:
            transition = await update(
                redis, member, lambda prev: after_deadline(prev, now=now) if prev else None, now=now
            )
        except Refused:  # heartbeats kept winning the race: it is alive, look again next round
            continue
        if transition is not None:
            transitions.append(transition)
        elif await store.read_record(redis, member) is None:
            await store.forget_deadline(redis, member)  # a deadline without a record is never due again
    return transitions


async def grant_recovery_grace(redis: Redis, *, now: float) -> int:
    """After an outage of our store: every encoder being judged gets an interval
    plus grace from `now` (tracker.encoders.state_machine.after_outage); returns how many were looked at."""
    granted = 0
    for member in await store.judged_members(redis):
        try:
            await update(redis, member, lambda prev: after_outage(prev, now=now) if prev else None, now=now)
        except Refused:  # heartbeats kept winning the race: it reported, nothing to grant
            continue
        granted += 1
    return granted


async def disconnect(redis: Redis, *, identity: Identity, now: float, since: float) -> Transition | None:
    """Mark an encoder whose websocket closed, unless it reported after `since`
    (this socket's last heartbeat) over another connection."""

    def step(previous: Record | None) -> tuple[Record, Transition | None] | None:
        if previous is None or previous.last_seen > since:
            return None
        return after_disconnect(previous, now=now)

    return await update(redis, identity.member, step, now=now)


async def forget_long_down(redis: Redis, *, now: float, hours: int) -> list[str]:
    """Forget encoders down for longer than history is kept (one-off legacy senders, retired machines)."""
    flat = await redis.hgetall(store.key("records"))
    for member, text in flat.items():  # a record nobody sends for again would otherwise stay unreadable forever
        try:
            Record.from_json(text)
        except Unreadable as exc:
            await store.quarantine(redis, member, text, exc)
    stale = [r for r in store.parse_records(flat) if r.state == State.DOWN and now - r.since > hours * 3600]
    return [r.member for r in stale if await store.remove_encoder(redis, r.room, r.name)]
