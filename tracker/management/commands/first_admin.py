import sys

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Ask for an admin account if there is none yet (only when run in a terminal)."

    def handle(self, *args, **options):
        if get_user_model().objects.filter(is_superuser=True).exists():
            return
        if sys.stdin.isatty():
            self.stdout.write("No admin account yet; let's make one (Ctrl-C to skip).")
            try:
                call_command("createsuperuser")
            except KeyboardInterrupt:
                self.stdout.write("\nskipped")
        else:
            self.stdout.write("No admin account yet: make one with `.venv/bin/python manage.py createsuperuser`.")
