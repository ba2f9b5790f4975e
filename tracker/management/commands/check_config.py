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
        self.stdout.write(f"global: grace={config.grace}s localips={json.dumps(config.localips)} secret=(set, hidden)")
        for room in config.rooms.values():
            self.stdout.write(f"{room.name}: {json.dumps(room.settings, sort_keys=True)}")
