import asyncio
import json
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError

from tracker.config import ConfigError, SiteConfig, get_config
from tracker.encoders import store
from tracker.encoders.legacy import mixed_content
from tracker.ops import setup_checks


class Command(BaseCommand):
    help = (
        "Validate config.json + config.private.json, print the merged config per room, and fail on setup "
        "mistakes: URLs that cannot load, schedule files that are not there, schedule keys the last sync "
        "found no room for."
    )

    def handle(self, *args, **options):
        try:
            config = get_config()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        https = settings.SECURE_SSL_REDIRECT or settings.TRACKER_PUBLIC_URL.startswith("https:")
        if https and config.secret:  # only when the legacy endpoint is on
            for room in config.rooms.values():
                if problem := mixed_content(room.name, room.settings):
                    raise CommandError(problem)
        hidden = {"secret", "metrics-token"}
        shown = {k: ("(hidden)" if k in hidden and v else v) for k, v in config.settings.items()}
        # A webhook's path or query is often its secret (chat services' hooks): the host only.
        shown["webhooks"] = [f"{urlsplit(url).scheme}://{urlsplit(url).hostname}/(hidden)" for url in shown["webhooks"]]
        self.stdout.write(f"config: {json.dumps(shown, sort_keys=True)}")
        for room in config.rooms.values():
            self.stdout.write(f"{room.name}: {json.dumps(room.settings, sort_keys=True)}")
        problems = setup_checks.config_problems(config) + self.last_sync_problems(config)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} setup problem{'s' if len(problems) > 1 else ''}, listed above")

    def last_sync_problems(self, config: SiteConfig) -> list[str]:
        """What the worker's last schedule sync found, when Redis can tell (before the first start it cannot)."""

        async def read() -> dict:
            redis = store.connect()
            try:
                return await store.get_ops_state(redis, "schedules")
            finally:
                await redis.aclose()

        try:
            health = asyncio.run(read())
        except (RedisError, OSError) as exc:
            self.stderr.write(f"(schedule keys not checked: redis unreachable: {exc})")
            return []
        return setup_checks.schedule_key_problems(health, config)
