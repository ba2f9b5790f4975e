"""The background worker: moves encoders to late and down when their deadlines
pass, records clients and bitrate history, delivers alerts, counts viewers,
and keeps schedules and now/next current."""

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable

from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError

from tracker.config import ConfigError, get_config
from tracker.encoders import history, ingest, store
from tracker.encoders.identities import copy_identities_to_redis
from tracker.encoders.outage import StoreWatch
from tracker.live import audience
from tracker.live import config_reload as reload
from tracker.ops import alerts, room_watch, site_health
from tracker.programme import sync as schedule_sync

logger = logging.getLogger("tracker.worker")

# The sweeper wakes at the next deadline but at least this often, so a
# heartbeat that moved the earliest deadline is noticed soon enough.
MAX_SLEEP_SECONDS = 0.5
# After SIGTERM, jobs get this long to finish their step (systemd waits 15 s).
STOP_SECONDS = 10
# A cancelled task still running is cancelled again this often (see cancel_until_done),
# and a job that overran its step gets this long to end once cancelled.
CANCEL_AGAIN_SECONDS = 0.1
CUT_SHORT_SECONDS = 2
# The alerts job waits this long for new transitions per read: a new one ends
# the wait at once, and a stop waits for the read in flight (its entries are
# then claimed by this worker), so short keeps stops (deploys, tests) quick.
ALERT_READ_BLOCK_MS = 200


class Stopped(Exception):
    """Raised at a job's pause once the worker was told to stop."""


class Shutdown:
    """Set by SIGTERM: every job finishes the step it is in and leaves at its next pause."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()

    def check(self) -> None:
        if self.requested.is_set():
            raise Stopped

    async def pause(self, seconds: float) -> None:
        """Sleep, or leave the job at once when a stop is asked for meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.requested.wait(), timeout=seconds)
        self.check()


async def cancel_until_done(tasks: Iterable[asyncio.Task], *, within: float) -> set[asyncio.Task]:
    """Cancel the tasks, and again every 0.1 s those still running; returns those left after `within` s.

    One cancel is not enough: redis-py wraps every command it sends in
    asyncio.wait_for when a socket timeout is set, and Python 3.11's wait_for
    returns the result instead of raising when the cancel arrives just as the
    send has finished (CPython gh-86296, fixed in 3.12). A job looping over
    Redis commands then loses about one cancel in five and runs on.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pending = set(tasks)
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(CANCEL_AGAIN_SECONDS, deadline - loop.time()))
    return pending


def all_tasks_but(keep: Iterable[asyncio.Task]) -> set[asyncio.Task]:
    """Every task of the loop but the caller's and `keep`: what a stop cancels directly.

    Directly, children included: a TaskGroup cancels its children once only,
    so a child that lost that cancel (see cancel_until_done) would keep its
    group, and the job that runs it, waiting for good.
    """
    return asyncio.all_tasks() - {asyncio.current_task(), *keep}


async def sweep_forever(redis: store.Redis, watch: StoreWatch, shutdown: Shutdown) -> None:
    stamped = 0.0
    while True:
        try:
            if time.time() - stamped >= site_health.WORKER_STAMP_SECONDS:
                await site_health.stamp_worker(redis, now=time.time(), name=site_health.worker_name())
                stamped = time.time()
            if not await site_health.intake_alive(redis):
                # No web process takes heartbeats: encoders cannot report, so nobody is judged.
                if not watch.lost:
                    logger.warning("no web process is taking heartbeats: judging nobody until one is")
                watch.failed()
                await shutdown.pause(MAX_SLEEP_SECONDS)
                continue
            if await watch.outage_ended(redis):
                granted = await ingest.grant_recovery_grace(redis, now=time.time())
                watch.dealt_with()
                logger.warning("back after an outage of ours: %d encoders get an interval plus grace", granted)
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
            if not watch.lost:
                logger.warning("sweeper cannot reach redis, judging nobody until it returns: %s", exc)
            watch.failed()
            upcoming = None
        delay = MAX_SLEEP_SECONDS if upcoming is None else upcoming - time.time()
        await shutdown.pause(min(max(delay, 0.01), MAX_SLEEP_SECONDS))


class Command(BaseCommand):
    help = "Run the worker: sweeper, history, viewer counts, schedules and alerts."

    def handle(self, *args, **options):
        try:
            get_config()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        asyncio.run(run())


async def record_history_forever(redis: store.Redis, shutdown: Shutdown) -> None:
    while True:
        config = get_config()
        try:
            hours = config.settings["history-hours"]
            await history.add_points(redis, rooms=list(config.rooms), now=time.time(), keep_hours=hours)
            for member in await ingest.forget_long_down(redis, now=time.time(), hours=hours):
                logger.info("forgot %s: down for more than %d hours", member, hours)
        except RedisError as exc:
            logger.warning("history cannot reach redis: %s", exc)
        await shutdown.pause(history.STEP_SECONDS - time.time() % history.STEP_SECONDS)


async def alert_forever(redis: store.Redis, shutdown: Shutdown) -> None:
    consumer = site_health.worker_name()
    while True:
        try:
            await alerts.ensure_groups(redis)
            while True:
                # Waits a moment for new transitions, then sends what is due.
                await alerts.take_transitions(redis, consumer=consumer, now=time.time(), block_ms=ALERT_READ_BLOCK_MS)
                await alerts.deliver_due(redis, now=time.time())
                shutdown.check()  # between steps: a claimed alert is always sent or queued again
        except RedisError as exc:
            logger.warning("alerts cannot reach redis: %s", exc)
            await shutdown.pause(1)


async def count_viewers_forever(redis: store.Redis, shutdown: Shutdown) -> None:
    while True:
        try:
            totals = await audience.publish_totals(redis, list(get_config().rooms))
            # The rooms' states need the audience just added up (viewers failing): same step.
            await room_watch.judge_rooms(redis, totals, now=time.time())
        except RedisError as exc:
            logger.warning("viewer counts cannot reach redis: %s", exc)
        await shutdown.pause(1)


async def schedules_forever(redis: store.Redis) -> None:
    """Sync schedules every few minutes; move now/next at talk boundaries."""
    changed = asyncio.Event()
    while True:
        try:
            # A task group: when one loop fails, the others are stopped too, not left behind.
            async with asyncio.TaskGroup() as group:
                group.create_task(schedule_sync.sync_forever(redis))
                group.create_task(schedule_sync.wake_on_changes(changed))
                group.create_task(schedule_sync.now_next_forever(redis, changed))
        except* RedisError as errors:
            logger.warning("schedules cannot reach redis: %s", errors.exceptions[0])
            await asyncio.sleep(1)


async def supervised(name: str, job: Callable[[], Awaitable[None]], shutdown: Shutdown) -> None:
    """Run a job until the worker stops: a bug in one (a webhook answering
    garbage, a schedule server breaking HTTP) must not stop the sweeper or the others."""
    with contextlib.suppress(Stopped):
        while True:
            try:
                await job()
            except Stopped:
                raise
            except Exception:
                logger.exception("%s failed; restarting it in 5 s", name)
                await shutdown.pause(5)


async def wait_for_redis(redis: store.Redis, shutdown: Shutdown) -> bool:
    """Start-up order is not guaranteed (honcho, systemd): wait for Redis, don't die.

    Returns whether it had to wait.
    """
    waited = False
    while True:
        try:
            await redis.ping()
            return waited
        except RedisError as exc:
            if not waited:
                logger.warning("waiting for redis: %s", exc)
                waited = True
            await shutdown.pause(1)


async def config_changed(redis: store.Redis) -> None:
    """New rooms get their alert group and their schedule at once, not at the next sync."""
    try:
        await alerts.ensure_groups(redis)
        await schedule_sync.sync(redis)
        await schedule_sync.push_now_next(redis, now=schedule_sync.schedule_now())
    except RedisError as exc:
        logger.warning("after the config reload, redis was away: %s", exc)


async def run() -> None:
    shutdown = Shutdown()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, shutdown.requested.set)
    reload.reload_on_sighup()
    redis = store.connect()
    reload.when_reloaded(lambda: config_changed(redis))
    watch = StoreWatch()
    try:
        if await wait_for_redis(redis, shutdown):
            watch.failed()  # it was out of reach: whatever it holds is from before an outage
    except Stopped:
        return
    count = await copy_identities_to_redis(redis)
    indexed = await store.index_rooms(redis)
    logger.info("worker started; %d encoder tokens loaded, %d records newly indexed by room", count, indexed)
    # The alerts' reads wait up to ALERT_READ_BLOCK_MS for news, and no longer than a command's
    # 2 s beyond it: without a deadline a Redis gone without a word (its host down, the link cut)
    # held every alert until TCP gave up, some 15 minutes.
    schedules_redis = store.connect()
    alerts_redis = store.connect(socket_timeout=ALERT_READ_BLOCK_MS / 1000 + 2)
    jobs = [
        asyncio.create_task(supervised(name, job, shutdown))
        for name, job in (
            ("sweeper", lambda: sweep_forever(redis, watch, shutdown)),
            ("history", lambda: record_history_forever(redis, shutdown)),
            ("viewer counts and room states", lambda: count_viewers_forever(redis, shutdown)),
            ("alerts", lambda: alert_forever(alerts_redis, shutdown)),
        )
    ]
    # Cut short at once when stopping: a fetch left halfway writes nothing. (Held here
    # because the event loop keeps only weak references to its tasks.)
    cut_short_jobs = [
        asyncio.create_task(supervised("schedules", lambda: schedules_forever(schedules_redis), shutdown)),
        asyncio.create_task(supervised("config reloads", lambda: reload.follow_orders("worker"), shutdown)),
    ]
    await shutdown.requested.wait()
    logger.info("worker stopping: finishing the current steps")
    cut_short = all_tasks_but(jobs)  # cut_short_jobs, and every task they started
    assert set(cut_short_jobs) <= cut_short
    stubborn, (_, overran) = await asyncio.gather(
        cancel_until_done(cut_short, within=STOP_SECONDS),
        asyncio.wait(jobs, timeout=STOP_SECONDS),
    )
    stubborn |= await cancel_until_done(overran, within=CUT_SHORT_SECONDS)
    logger.info("worker stopped%s", f" ({len(overran)} jobs cut short)" if overran else "")
    if stubborn:
        # asyncio.run would wait for them for good: the steps are done, so leave without them.
        logger.error("worker stopped with %d tasks still running after being cancelled", len(stubborn))
        logging.shutdown()
        os._exit(1)
