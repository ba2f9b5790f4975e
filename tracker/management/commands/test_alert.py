from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError

from tracker.config import ConfigError, get_config
from tracker.ops import alert_check
from tracker.ops.actions import Refused


class Command(BaseCommand):
    help = "Send a sample alert to every target of a room (webhooks and Apprise URLs), now, and say how each went."

    def add_arguments(self, parser):
        parser.add_argument("--room", help="the room whose targets get it (default: the first room)")

    def handle(self, *args, **options):
        try:
            config = get_config()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        room = options["room"] or next(iter(config.rooms))
        try:
            results = async_to_sync(alert_check.send_test)(room)
        except Refused as refused:
            raise CommandError(str(refused)) from None
        for result in results:
            self.stdout.write(
                f"{result['target']}: {'sent' if result['error'] is None else 'failed: ' + result['error']}"
            )
        failed = sum(result["error"] is not None for result in results)
        if failed:
            raise CommandError(f"{failed} of {len(results)} alert targets failed")
