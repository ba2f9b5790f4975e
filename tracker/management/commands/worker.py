"""The background worker: takes encoders offline when their deadline passes."""

import asyncio
import contextlib
import logging
import time

from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError

from tracker import store
from tracker.config import ConfigError, get_config

logger = logging.getLogger("tracker.worker")

# The sweeper wakes at the next deadline but at least this often, so a
# heartbeat that moved the earliest deadline is noticed soon enough.
MAX_SLEEP_SECONDS = 0.5


async def sweep_forever() -> None:
    redis = store.connect()
    while True:
        try:
            for member in await store.expire_due(redis, now=time.time()):
                logger.info("offline %s (no heartbeat before its deadline)", member)
            upcoming = await store.next_deadline(redis)
        except RedisError as exc:
            logger.warning("sweeper cannot reach redis: %s", exc)
            upcoming = None
        delay = MAX_SLEEP_SECONDS if upcoming is None else upcoming - time.time()
        await asyncio.sleep(min(max(delay, 0.01), MAX_SLEEP_SECONDS))


class Command(BaseCommand):
    help = "Run the worker: the liveness sweeper."

    def handle(self, *args, **options):
        try:
            get_config()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        logger.info("worker started")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(sweep_forever())
