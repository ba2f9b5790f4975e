"""Alerts: a message to each configured target (webhooks, Apprise URLs:
tracker.ops.notify) when an encoder goes down and when it recovers.

The worker reads transitions from the rooms' logs through a Redis consumer
group (so each is handled by one worker, and none is lost while no worker
runs), decides what to send, and queues one delivery per target in a
sorted set by due time, acknowledging the entry, storing the encoder's
alert memory and queuing its deliveries in one step (take_alert.lua). An
entry a killed worker read but never acknowledged is claimed back after
CLAIM_IDLE_SECONDS. A delivery being sent is leased (LEASE_SECONDS): one
whose worker died mid-send is sent again after the lease, with the same
`id` in its payload (`<room>-<log entry id>`) so that receivers can drop
the duplicate. Failed deliveries go back into the set with a longer delay.
Nothing here runs on the heartbeat path.

Flap suppression: at most one down-alert per encoder per
`alert-suppress-minutes`; a recovery is sent exactly when the down before it
was sent.

Silences (tracker.ops.actions) and maintenance windows (tracker.ops.maintenance):
a transition made while its encoder or room is silenced or in maintenance is
not alerted, nor is the recovery that ends it; once the silence or window
ends, alerts flow again by themselves.

Room-level alerts (tracker.live.room_state, judged by tracker.ops.room_watch):
one per change of a room's state into a state that needs a look (redundancy
lost: a warning; a format lost, viewers failing: an error; off air during a
talk: critical), and one when the room is fine again, with the same flap
suppression (per room and state) and the room's silences. Their payload
carries `"kind": "room"` and the `severity`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from tracker.config import get_config
from tracker.encoders import store
from tracker.encoders.state_machine import State, member_of
from tracker.live.room_state import Severity
from tracker.ops import actions, maintenance, notify

logger = logging.getLogger(__name__)

GROUP = "alerts"
# Seconds before each retry; after the last one the alert is dropped (and logged).
RETRY_DELAYS = (5, 15, 60, 300, 900)
# A log entry read but not acknowledged this long ago belongs to a worker that
# stopped (handling one takes milliseconds): another claims it.
CLAIM_IDLE_SECONDS = 10
# A delivery being sent is held this long (more than notify.SEND_DEADLINE_SECONDS);
# after it, a delivery whose worker died mid-send is due again.
LEASE_SECONDS = notify.SEND_DEADLINE_SECONDS + 5
# Deciding again when another worker changed the same encoder's memory meanwhile.
MEMORY_RACE_ATTEMPTS = 3
TAKE_ALERT_LUA = store.load_script("take_alert")
LEASE_DELIVERY_LUA = store.load_script("lease_delivery")
RECOVERED = {State.UP, State.DEGRADED}


async def ensure_groups(redis: Redis) -> None:
    """Create the consumer group on every room log; new ones start at the log's end."""
    for room in get_config().rooms:
        try:
            await redis.xgroup_create(store.key("log", room), GROUP, id="$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def alert_text(transition: dict[str, Any], title: str) -> str:
    if transition["new"] in (State.DOWN, State.DEGRADED) and transition["old"] != State.DOWN:
        return f"{transition['new'].upper()}: {transition['name']} in {title} — {transition['reason']}"
    return f"RECOVERED: {transition['name']} in {title} is {transition['new']} again"


def decide(memory: dict[str, Any], transition: dict[str, Any], *, now: float, suppress: float) -> dict[str, Any] | None:
    """The encoder's new alert memory when this transition is alerted, else None."""
    new, old = transition["new"], transition["old"]
    if new == State.DOWN or (new == State.DEGRADED and old != State.DOWN):  # down -> degraded is a recovery, below
        if now - memory.get(f"last_{new}_sent", float("-inf")) < suppress:
            return None
        # A down alert supersedes an open degraded one: one recovery says it is over.
        return {
            **memory,
            f"last_{new}_sent": now,
            f"{new}_open": True,
            **({"degraded_open": False} if new == State.DOWN else {}),
        }
    if old == State.DOWN and new in RECOVERED and memory.get("down_open"):
        return {**memory, "down_open": False}
    if old == State.DEGRADED and new == State.UP and memory.get("degraded_open"):
        return {**memory, "degraded_open": False}
    return None


def room_alert_text(change: dict[str, Any], title: str) -> str:
    if change["severity"] == Severity.OK:
        return f"RECOVERED: {title} is {change['label']} now"
    reasons = "; ".join(change["reasons"])
    return f"{change['label'].upper()}: {title}" + (f" — {reasons}" if reasons else "")


def decide_room(
    memory: dict[str, Any], change: dict[str, Any], *, now: float, suppress: float
) -> dict[str, Any] | None:
    """The room's new alert memory when this change of state is alerted, else None."""
    new = change["new"]
    if change["severity"] != Severity.OK:
        if now - memory.get(f"last_{new}_sent", float("-inf")) < suppress:
            return None
        return {**memory, f"last_{new}_sent": now, "open": new}
    if memory.get("open"):  # fine again, after a problem that was alerted
        return {**memory, "open": None}
    return None


async def take_transitions(redis: Redis, *, consumer: str, now: float, block_ms: int | None = None) -> int:
    """Queue deliveries for new down/recovery transitions; returns how many were queued.

    Entries another consumer read but never handled (a worker killed between
    reading and acknowledging) are claimed back once idle for CLAIM_IDLE_SECONDS.
    """
    streams = {store.key("log", room): ">" for room in get_config().rooms}
    claimed = await claim_stale(redis, consumer=consumer, streams=list(streams))
    # Claimed entries are handled at once, not after waiting for new ones.
    answer = await redis.xreadgroup(GROUP, consumer, streams, count=100, block=None if claimed else block_ms)
    queued = 0
    for stream, entries in [*claimed, *(answer or [])]:
        for entry_id, fields in entries:
            queued += await take_entry(redis, stream, entry_id, fields, now=now)
    return queued


async def claim_stale(redis: Redis, *, consumer: str, streams: list[str]) -> list[tuple[str, list]]:
    async with redis.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xautoclaim(stream, GROUP, consumer, min_idle_time=int(CLAIM_IDLE_SECONDS * 1000), count=100)
        answers = await pipe.execute()
    claimed = [(stream, answer[1]) for stream, answer in zip(streams, answers, strict=True) if answer[1]]
    for stream, entries in claimed:
        logger.warning("claimed %d alert entries of %s left unhandled by a stopped worker", len(entries), stream)
    return claimed


async def take_entry(redis: Redis, stream: str, entry_id: str, fields: dict[str, str] | None, *, now: float) -> int:
    """Acknowledge one log entry, with its alert memory and deliveries in the same step; returns deliveries queued."""
    config = get_config()
    # The logs also hold operators' actions (acknowledgements, silences, notes): no transition.
    text = (fields or {}).get("transition")  # None: an entry trimmed away while pending
    transition = None if text is None else store.readable(f"{stream}/{entry_id}", text, read_transition)
    room_text = (fields or {}).get("room_state")
    if transition is None and room_text:
        change = store.readable(f"{stream}/{entry_id}", room_text, read_room_change)
        if change is not None:
            return await take_room_entry(redis, stream, entry_id, change, now=now)
    memory_key = store.key("alerts", "memory")
    # Deliveries are due at the transition's time, so a down goes out before its recovery.
    due = transition["at"] if transition is not None else 0
    for _ in range(MEMORY_RACE_ATTEMPTS):
        member, read_memory, memory, jobs = "", "", None, []
        if transition is not None and not await silenced(redis, transition):
            member = member_of(transition["room"], transition["name"])
            read_memory, remembered = await read_alert_memory(redis, member)
            memory = decide(
                remembered,
                transition,
                now=now,
                suppress=config.settings["alert-suppress-minutes"] * 60,
            )
        if memory is None or transition is None:
            member = ""  # nothing to remember, nothing to send: acknowledged alone
        else:
            title = config.rooms[transition["room"]].title if transition["room"] in config.rooms else ""
            # The same id in every attempt and resend: receivers drop what they already have.
            payload = {"text": alert_text(transition, title), "id": f"{transition['room']}-{entry_id}", **transition}
            jobs = [
                json.dumps({**target, "payload": payload, "attempt": 0}, sort_keys=True)
                for target in notify.targets(config, transition["room"])
            ]
        handled = await TAKE_ALERT_LUA(
            keys=[stream, memory_key, store.key("alerts", "outbox")],
            args=[GROUP, entry_id, member, read_memory, json.dumps(memory), due if jobs else 0, *jobs],
            client=redis,
        )
        if handled >= 0:
            return len(jobs) if handled else 0
    logger.warning("alert memory of %s kept changing; %s left for a later claim", member, entry_id)
    return 0


async def read_alert_memory(redis: Redis, member: str) -> tuple[str, dict[str, Any]]:
    """An encoder's or room's alert memory as read (the compare-and-set's expected text) and as a dict
    ({} when there is none, or it is unreadable)."""
    memory_key = store.key("alerts", "memory")
    text = await redis.hget(memory_key, member) or ""
    value = store.readable(f"{memory_key}/{member}", text or "{}", json.loads)
    return text, value if isinstance(value, dict) else {}


async def take_room_entry(redis: Redis, stream: str, entry_id: str, change: dict[str, Any], *, now: float) -> int:
    """A room's change of state: acknowledged with its alert memory (field `<room>`) and deliveries in one step."""
    config = get_config()
    room = change["room"]
    memory_key = store.key("alerts", "memory")
    for _ in range(MEMORY_RACE_ATTEMPTS):
        member, read_memory, memory, jobs = "", "", None, []
        if await actions.silenced_until(redis, room, None, at=change["at"]):
            logger.info("room alert for %s not sent: silenced", room)
        elif await maintenance.covering(redis, room, None, at=change["at"]):
            logger.info("room alert for %s not sent: maintenance window", room)
        else:
            member = room
            read_memory, remembered = await read_alert_memory(redis, member)
            memory = decide_room(
                remembered,
                change,
                now=now,
                suppress=config.settings["alert-suppress-minutes"] * 60,
            )
        if memory is None:
            member = ""
        else:
            title = config.rooms[room].title if room in config.rooms else room
            payload = {"text": room_alert_text(change, title), "id": f"{room}-{entry_id}", **change}
            jobs = [
                json.dumps({**target, "payload": payload, "attempt": 0}, sort_keys=True)
                for target in notify.targets(config, room)
            ]
        handled = await TAKE_ALERT_LUA(
            keys=[stream, memory_key, store.key("alerts", "outbox")],
            args=[GROUP, entry_id, member, read_memory, json.dumps(memory), change["at"] if jobs else 0, *jobs],
            client=redis,
        )
        if handled >= 0:
            return len(jobs) if handled else 0
    logger.warning("alert memory of room %s kept changing; %s left for a later claim", room, entry_id)
    return 0


def read_room_change(text: str) -> dict[str, Any]:
    change = json.loads(text)
    if not all(isinstance(change[name], str) for name in ("room", "new", "label", "severity")):
        raise ValueError("not a room's change of state")
    if not isinstance(change["at"], (int, float)) or not isinstance(change["reasons"], list):
        raise ValueError("not a room's change of state")
    return change


async def silenced(redis: Redis, transition: dict[str, Any]) -> bool:
    room, name = transition["room"], transition["name"]
    if await actions.silenced_until(redis, room, name, at=transition["at"]):
        logger.info("alert for %s/%s not sent: silenced", room, name)
        return True
    if await maintenance.covering(redis, room, name, at=transition["at"]):
        logger.info("alert for %s/%s not sent: maintenance window", room, name)
        return True
    return False


def read_transition(text: str) -> dict[str, Any]:
    transition = json.loads(text)
    if not all(isinstance(transition[name], str) for name in ("room", "name", "new", "reason")):
        raise ValueError("not a transition")
    if not isinstance(transition["at"], (int, float)):
        raise ValueError("not a transition")
    return transition


def read_job(text: str) -> dict[str, Any]:
    job = json.loads(text)
    if not isinstance(job["url"], str) or not isinstance(job["attempt"], int) or not isinstance(job["payload"], dict):
        raise ValueError("not a delivery")
    return job


async def deliver_due(redis: Redis, *, now: float) -> int:
    """Send every queued alert that is due; returns how many were delivered.

    Each is leased while it is sent (LEASE_SECONDS): if this worker dies
    mid-send, it is due again when the lease ends, and sent with the same id.
    Each target gets its alerts in order (a down before its recovery), and
    targets are served side by side: a service that hangs until its deadline
    holds up no other.
    """
    outbox = store.key("alerts", "outbox")
    per_target: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for text in await redis.zrangebyscore(outbox, "-inf", now, start=0, num=20):
        if not await LEASE_DELIVERY_LUA(keys=[outbox], args=[text, now, now + LEASE_SECONDS], client=redis):
            continue  # another worker holds it
        job = store.readable(outbox, text, read_job)
        if job is None:
            await redis.zrem(outbox, text)
        else:
            per_target.setdefault(f"{job.get('kind', 'webhook')} {job['url']}", []).append((text, job))
    return sum(await asyncio.gather(*(send_in_order(redis, jobs, now=now) for jobs in per_target.values())))


async def send_in_order(redis: Redis, jobs: list[tuple[str, dict[str, Any]]], *, now: float) -> int:
    """Send one target's leased deliveries one after the other; how many were delivered."""
    delivered = 0
    for text, job in jobs:
        try:
            await notify.deliver(job)
        except (OSError, ValueError) as exc:
            await retry_later(redis, text, job, exc, now=now)
            continue
        await redis.zrem(store.key("alerts", "outbox"), text)
        delivered += 1
    return delivered


async def retry_later(redis: Redis, text: str, job: dict[str, Any], error: Exception, *, now: float) -> None:
    """Replace the leased delivery `text` by its next attempt, or drop it after the last."""
    attempt = job["attempt"]
    host = notify.where(job)  # never the whole URL: it may hold a secret
    outbox = store.key("alerts", "outbox")
    async with redis.pipeline(transaction=True) as pipe:  # never both or neither: one MULTI
        pipe.zrem(outbox, text)
        if attempt >= len(RETRY_DELAYS):
            logger.error("alert to %s dropped after %d attempts: %s", host, attempt + 1, error)
        else:
            logger.warning("alert to %s failed (%s), retrying in %d s", host, error, RETRY_DELAYS[attempt])
            next_attempt = json.dumps({**job, "attempt": attempt + 1}, sort_keys=True)
            pipe.zadd(outbox, {next_attempt: now + RETRY_DELAYS[attempt]})
        await pipe.execute()
