"""The background worker: moves encoders to late and down when their deadlines
pass, records clients and bitrate history, delivers alerts, counts viewers,
and keeps schedules and now/next current."""

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError

from tracker import alerts, audience, history, ingest, reload, schedule_sync, store
from tracker.config import ConfigError, get_config
from tracker.identities import copy_identities_to_redis

logger = logging.getLogger("tracker.worker")

# The sweeper wakes at the next deadline but at least this often, so a
# heartbeat that moved the earliest deadline is noticed soon enough.
MAX_SLEEP_SECONDS = 0.5


async def sweep_forever(redis: store.Redis) -> None:
    while True:
        try:
            for transition in await ingest.sweep(redis, now=time.time()):
                logger.info(
                    "%s/%s %s -> %s: %s",
                    transition.room,
                    transition.name,
                    transition.old,
                    transition.new,
                    transition.reason,
                )
            upcoming = await store.next_deadline(redis)
        except RedisError as exc:
            logger.warning("sweeper cannot reach redis: %s", exc)
            upcoming = None
        delay = MAX_SLEEP_SECONDS if upcoming is None else upcoming - time.time()
        await asyncio.sleep(min(max(delay, 0.01), MAX_SLEEP_SECONDS))


class Command(BaseCommand):
    help = "Run the worker: sweeper, history, viewer counts, schedules and alerts."

    def handle(self, *args, **options):
        try:
            get_config()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run())


async def record_history_forever(redis: store.Redis) -> None:
    while True:
        config = get_config()
        try:
            hours = config.settings["history-hours"]
            await history.add_points(redis, rooms=list(config.rooms), now=time.time(), keep_hours=hours)
            for member in await ingest.forget_long_down(redis, now=time.time(), hours=hours):
                logger.info("forgot %s: down for more than %d hours", member, hours)
        except RedisError as exc:
            logger.warning("history cannot reach redis: %s", exc)
        await asyncio.sleep(history.STEP_SECONDS - time.time() % history.STEP_SECONDS)


async def alert_forever(redis: store.Redis) -> None:
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    while True:
        try:
            await alerts.ensure_groups(redis)
            while True:
                # Blocks up to a second for new transitions, then sends what is due.
                await alerts.take_transitions(redis, consumer=consumer, now=time.time(), block_ms=1000)
                await alerts.deliver_due(redis, now=time.time())
        except RedisError as exc:
            logger.warning("alerts cannot reach redis: %s", exc)
            await asyncio.sleep(1)


async def count_viewers_forever(redis: store.Redis) -> None:
    while True:
        try:
            await audience.publish_totals(redis, list(get_config().rooms))
        except RedisError as exc:
            logger.warning("viewer counts cannot reach redis: %s", exc)
        await asyncio.sleep(1)


async def schedules_forever(redis: store.Redis) -> None:
    """Sync schedules every few minutes; move now/next at talk boundaries."""
    changed = asyncio.Event()
    while True:
        try:
            # A task group: when one loop fails, the other is stopped too, not left behind.
            async with asyncio.TaskGroup() as group:
                group.create_task(schedule_sync.sync_forever(redis, changed))
                group.create_task(schedule_sync.now_next_forever(redis, changed))
        except* RedisError as errors:
            logger.warning("schedules cannot reach redis: %s", errors.exceptions[0])
            await asyncio.sleep(1)


async def supervised(name: str, job: Callable[[], Awaitable[None]]) -> None:
    """Run a job forever: a bug in one (a webhook answering garbage, a schedule
    server breaking HTTP) must not stop the sweeper or the others."""
    while True:
        try:
            await job()
        except Exception:
            logger.exception("%s failed; restarting it in 5 s", name)
            await asyncio.sleep(5)


async def wait_for_redis(redis: store.Redis) -> None:
    """Start-up order is not guaranteed (honcho, systemd): wait for Redis, don't die."""
    waited = False
    while True:
        try:
            await redis.ping()
            return
        except RedisError as exc:
            if not waited:
                logger.warning("waiting for redis: %s", exc)
                waited = True
            await asyncio.sleep(1)


async def follow_config() -> None:
    """Reload when `manage.py reload_config` says so (SIGHUP reloads this process alone)."""
    while True:
        client = store.connect(socket_timeout=None)  # a subscription idles by design
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(store.control_channel())
                async for message in pubsub.listen():
                    if reload.is_order(message["data"]):
                        reload.reload_now(why="reload_config")
        except RedisError as exc:
            logger.warning("config reload orders cannot reach redis: %s", exc)
            await asyncio.sleep(1)
        finally:
            await client.aclose()


async def config_changed(redis: store.Redis) -> None:
    """New rooms get their alert group and their schedule at once, not at the next sync."""
    try:
        await alerts.ensure_groups(redis)
        await schedule_sync.sync(redis)
        await schedule_sync.push_now_next(redis, now=schedule_sync.schedule_now())
    except RedisError as exc:
        logger.warning("after the config reload, redis was away: %s", exc)


async def run() -> None:
    reload.reload_on_sighup()
    redis = store.connect()
    reload.when_reloaded(lambda: config_changed(redis))
    await wait_for_redis(redis)
    count = await copy_identities_to_redis(redis)
    logger.info("worker started; %d encoder tokens loaded", count)
    schedules_redis, alerts_redis = store.connect(), store.connect(socket_timeout=None)  # alerts block on reads
    await asyncio.gather(
        supervised("sweeper", lambda: sweep_forever(redis)),
        supervised("history", lambda: record_history_forever(redis)),
        supervised("viewer counts", lambda: count_viewers_forever(redis)),
        supervised("schedules", lambda: schedules_forever(schedules_redis)),
        supervised("alerts", lambda: alert_forever(alerts_redis)),
        supervised("config reloads", follow_config),
    )
