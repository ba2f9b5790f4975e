import asyncio
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracker.config import ConfigError, load_config
from tracker.encoders import store
from tracker.live import config_reload as reload
from tracker.ops import setup_checks


class Command(BaseCommand):
    help = "Check config.json + config.private.json, then make every web process and worker use them."

    def handle(self, *args, **options):
        try:
            config = load_config(Path(settings.ROOMS_CONFIG_DIR))  # refused here, no process hears of a bad edit
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        if problems := setup_checks.unreadable_schedule_files(config):
            raise CommandError("; ".join(problems))
        listening = asyncio.run(self.order())
        if not listening:
            raise CommandError("no web process or worker is listening on this Redis: nothing was reloaded")
        self.stdout.write(f"reload ordered; {listening} processes listening")

    @staticmethod
    async def order() -> int:
        redis = store.connect()
        try:
            return await reload.order_reload(redis)
        finally:
            await redis.aclose()
