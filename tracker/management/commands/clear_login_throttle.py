"""Let someone log in again at once after failed logins made them wait (tracker.ops.accounts)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError

from tracker.ops import accounts


class Command(BaseCommand):
    help = "Clear failed-login waits: for an address (--address), a username (--username), or all (--all)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--address", help="a client address (an IPv6 address clears its /64)")
        parser.add_argument("--username", help="a username: its failures from every address")
        parser.add_argument("--all", action="store_true", help="every counter")

    def handle(self, *args: Any, address: str | None, username: str | None, all: bool, **options: Any) -> None:
        if not (address or username or all):
            raise CommandError("say whose waits to clear: --address, --username or --all")
        try:
            with accounts.sync_redis() as client:
                cleared = accounts.clear_throttles(client, address=address, username=username)
        except RedisError as exc:
            raise CommandError(f"Redis unreachable: {exc}") from None
        self.stdout.write(f"cleared {cleared} login counter(s)")
