import time

from django.core.management.base import BaseCommand, CommandError

from tracker.config import ConfigError, get_config
from tracker.ops.alerts import alert_text, post_json


class Command(BaseCommand):
    help = "Send a sample alert to every configured webhook, now, and say how each went."

    def handle(self, *args, **options):
        try:
            config = get_config()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        webhooks = config.settings["webhooks"]
        if not webhooks:
            raise CommandError('no webhooks configured (config: "webhooks": ["https://..."])')
        room = next(iter(config.rooms.values()))
        transition = {
            "room": room.name,
            "name": "test-encoder",
            "old": "late",
            "new": "down",
            "reason": "this is a test alert",
            "at": time.time(),
        }
        payload = {"text": alert_text(transition, room.title), **transition}
        failed = 0
        for number, url in enumerate(webhooks, 1):
            try:
                post_json(url, payload)
            except (OSError, ValueError) as exc:
                failed += 1
                self.stdout.write(f"webhook {number}: failed: {exc}")
            else:
                self.stdout.write(f"webhook {number}: sent")
        if failed:
            raise CommandError(f"{failed} of {len(webhooks)} webhooks failed")
