"""Alerts: a JSON POST to each configured webhook when an encoder goes down
and when it recovers.

The worker reads transitions from the rooms' logs through a Redis consumer
group (so each is handled by one worker, and none is lost while no worker
runs), decides what to send, and queues one delivery per webhook in a
sorted set by due time. Failed deliveries go back into the set with a
longer delay. Nothing here runs on the heartbeat path.

Flap suppression: at most one down-alert per encoder per
`alert-suppress-minutes`; a recovery is sent exactly when the down before it
was sent.

Silences (tracker.controls): a transition made while its encoder or room is
silenced is not alerted, nor is the recovery that ends it; once the silence
ends, alerts flow again by themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
import urllib.request
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from . import controls, store
from .config import get_config

logger = logging.getLogger(__name__)

GROUP = "alerts"
# Seconds before each retry; after the last one the alert is dropped (and logged).
RETRY_DELAYS = (5, 15, 60, 300, 900)
DELIVERY_TIMEOUT_SECONDS = 5
RECOVERED = {"up", "degraded"}


async def ensure_groups(redis: Redis) -> None:
    """Create the consumer group on every room log; new ones start at the log's end."""
    for room in get_config().rooms:
        try:
            await redis.xgroup_create(store.key("log", room), GROUP, id="$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def alert_text(transition: dict[str, Any], title: str) -> str:
    if transition["new"] in ("down", "degraded") and transition["old"] != "down":
        return f"{transition['new'].upper()}: {transition['name']} in {title} — {transition['reason']}"
    return f"RECOVERED: {transition['name']} in {title} is {transition['new']} again"


async def decide(redis: Redis, transition: dict[str, Any], *, now: float) -> bool:
    """Whether this transition is alerted, updating the encoder's alert memory."""
    member = f"{transition['room']}/{transition['name']}"
    memory_key = store.key("alerts", "memory")
    memory = store.readable(f"{memory_key}/{member}", await redis.hget(memory_key, member) or "{}", json.loads)
    memory = memory if isinstance(memory, dict) else {}
    suppress = get_config().settings["alert-suppress-minutes"] * 60
    new, old = transition["new"], transition["old"]
    if new == "down" or (new == "degraded" and old != "down"):  # down -> degraded is a recovery, below
        if now - memory.get(f"last_{new}_sent", float("-inf")) < suppress:
            return False
        # A down alert supersedes an open degraded one: one recovery says it is over.
        memory = {
            **memory,
            f"last_{new}_sent": now,
            f"{new}_open": True,
            **({"degraded_open": False} if new == "down" else {}),
        }
    elif old == "down" and new in RECOVERED and memory.get("down_open"):
        memory["down_open"] = False
    elif old == "degraded" and new == "up" and memory.get("degraded_open"):
        memory["degraded_open"] = False
    else:
        return False
    await redis.hset(memory_key, member, json.dumps(memory))
    return True


async def should_alert(redis: Redis, transition: dict[str, Any], *, now: float) -> bool:
    room, name = transition["room"], transition["name"]
    if await controls.silenced_until(redis, room, name, at=transition["at"]):
        logger.info("alert for %s/%s not sent: silenced", room, name)
        return False
    return await decide(redis, transition, now=now)


async def take_transitions(redis: Redis, *, consumer: str, now: float, block_ms: int | None = None) -> int:
    """Queue deliveries for new down/recovery transitions; returns how many were queued."""
    config = get_config()
    streams = {store.key("log", room): ">" for room in config.rooms}
    answer = await redis.xreadgroup(GROUP, consumer, streams, count=100, block=block_ms)
    queued = 0
    for stream, entries in answer or []:
        for entry_id, fields in entries:
            # The logs also hold operators' actions (acknowledgements, silences, notes): no transition.
            text = fields.get("transition")
            transition = None if text is None else store.readable(f"{stream}/{entry_id}", text, read_transition)
            if transition is not None and await should_alert(redis, transition, now=now):
                title = config.rooms[transition["room"]].title if transition["room"] in config.rooms else ""
                payload = {"text": alert_text(transition, title), **transition}
                for url in config.settings["webhooks"]:
                    # Due at the transition's time, so a down goes out before its recovery.
                    job = {"id": uuid.uuid4().hex, "url": url, "payload": payload, "attempt": 0}
                    await enqueue(redis, job, due=transition["at"])
                    queued += 1
            await redis.xack(stream, GROUP, entry_id)
    return queued


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


async def enqueue(redis: Redis, job: dict[str, Any], *, due: float) -> None:
    await redis.zadd(store.key("alerts", "outbox"), {json.dumps(job, sort_keys=True): due})


def post_json(url: str, payload: dict[str, Any]) -> None:
    """POST one alert; raises OSError (incl. HTTPError) when it was not accepted."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS):
        pass


async def deliver_due(redis: Redis, *, now: float) -> int:
    """Send every queued alert that is due; returns how many were delivered."""
    outbox = store.key("alerts", "outbox")
    delivered = 0
    for text in await redis.zrangebyscore(outbox, "-inf", now, start=0, num=20):
        if not await redis.zrem(outbox, text):
            continue  # another worker claimed it
        job = store.readable(outbox, text, read_job)
        if job is None:
            continue
        try:
            await asyncio.to_thread(post_json, job["url"], job["payload"])
        except (OSError, ValueError) as exc:
            await retry_later(redis, job, exc, now=now)
            continue
        delivered += 1
    return delivered


async def retry_later(redis: Redis, job: dict[str, Any], error: Exception, *, now: float) -> None:
    attempt = job["attempt"]
    host = urllib.parse.urlsplit(job["url"]).hostname  # never the whole URL: it may hold a secret
    if attempt >= len(RETRY_DELAYS):
        logger.error("alert to %s dropped after %d attempts: %s", host, attempt + 1, error)
        return
    logger.warning("alert to %s failed (%s), retrying in %d s", host, error, RETRY_DELAYS[attempt])
    await enqueue(redis, {**job, "attempt": attempt + 1}, due=now + RETRY_DELAYS[attempt])
