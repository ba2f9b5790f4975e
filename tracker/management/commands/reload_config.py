import asyncio
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError

from tracker.config import ConfigError, load_config
from tracker.encoders import store
from tracker.live import config_reload as reload
from tracker.ops import setup_checks


class Command(BaseCommand):
    help = (
        "Check config.json + config.private.json, then make every web process and worker use them; "
        "names each process that applied, refused or did not answer, and fails unless all applied."
    )

    def handle(self, *args, **options):
        try:
            config = load_config(Path(settings.ROOMS_CONFIG_DIR))  # refused here, no process hears of a bad edit
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        if problems := setup_checks.unreadable_schedule_files(config):
            raise CommandError("; ".join(problems))
        try:
            report = asyncio.run(self.order())
        except RedisError as exc:
            raise CommandError(f"cannot reach redis, nothing was reloaded: {exc}") from None
        if not report.answers and not report.silent:
            raise CommandError("no web process or worker is listening on this Redis: nothing was reloaded")
        for line in report.lines():
            self.stdout.write(line)
        if not report.complete:
            missed = len(report.silent) + sum(not outcome for outcome in report.answers.values())
            raise CommandError(f"{missed} of {len(report.answers) + len(report.silent)} processes did not apply it")
        self.stdout.write(f"reloaded in {len(report.answers)} processes")

    @staticmethod
    async def order() -> reload.Report:
        redis = store.connect()
        try:
            return await reload.order_reload(redis)
        finally:
            await redis.aclose()
