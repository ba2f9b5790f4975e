import json

from django.core.management.base import BaseCommand, CommandError

from tracker.config import ConfigError, get_config


class Command(BaseCommand):
    help = "Validate config.json + config.private.json and print the merged config per room."

    def handle(self, *args, **options):
        try:
            config = get_config()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        hidden = {"secret", "metrics-token"}
        shown = {k: ("(hidden)" if k in hidden and v else v) for k, v in config.settings.items()}
        self.stdout.write(f"config: {json.dumps(shown, sort_keys=True)}")
        for room in config.rooms.values():
            self.stdout.write(f"{room.name}: {json.dumps(room.settings, sort_keys=True)}")
