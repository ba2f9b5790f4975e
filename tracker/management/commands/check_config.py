import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracker.config import ConfigError, get_config
from tracker.legacy import mixed_content


class Command(BaseCommand):
    help = "Validate config.json + config.private.json and print the merged config per room."

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
        self.stdout.write(f"config: {json.dumps(shown, sort_keys=True)}")
        for room in config.rooms.values():
            self.stdout.write(f"{room.name}: {json.dumps(room.settings, sort_keys=True)}")
