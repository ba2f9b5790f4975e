import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from tracker.config import PRIVATE_FILE

TEMPLATE = """// Local settings merged over config.json; not tracked by git.
// Created by `manage.py init_config` with a random secret.
{
  "config": {
    "secret": "%s"
  }
}
"""


def private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)  # readable by its owner only


class Command(BaseCommand):
    help = f"Create {PRIVATE_FILE} with a random secret if it does not exist yet."

    def handle(self, *args, **options):
        path = settings.ROOMS_CONFIG_DIR / PRIVATE_FILE
        try:
            # "x" mode: never overwrite a file someone already made.
            with open(path, "x", encoding="utf-8", opener=private_opener) as f:
                f.write(TEMPLATE % secrets.token_urlsafe(32))
        except FileExistsError:
            return
        self.stdout.write(f"created {path} with a random secret")
