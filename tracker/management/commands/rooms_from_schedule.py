import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracker.config import MAIN_FILE, PRIVATE_FILE, ConfigError, deep_merge, parse_config, read_commented_json
from tracker.programme.room_setup import plan_rooms
from tracker.programme.sync import fetch
from tracker.schedule import ScheduleError, parse_schedule
from tracker.schedule.timezones import get_timezone

FETCH_SECONDS = 30


class Command(BaseCommand):
    help = (
        f"Read a schedule (URL or file; frab/pretalx XML or JSON, schedule2, iCalendar, eventfeed) and write "
        f"one room per schedule room into {PRIVATE_FILE}: name, title, schedule and matching schedule-key."
    )

    def add_arguments(self, parser):
        parser.add_argument("schedule", help="the schedule's URL, or a file (stored as an absolute path)")
        parser.add_argument(
            "--timezone", default="UTC", help="the zone of times the schedule gives without one (default UTC)"
        )
        parser.add_argument(
            "--replace", action="store_true", help="remove every other room (the examples of config.json) with null"
        )
        parser.add_argument("--dry-run", action="store_true", help=f"print what would change; {PRIVATE_FILE} stays")

    def handle(self, *args, schedule, timezone, replace, dry_run, **options):
        location = schedule if schedule.startswith(("http://", "https://")) else str(Path(schedule).resolve())
        try:
            get_timezone(timezone)
            content = fetch(location, etag="", last_modified="", timeout=FETCH_SECONDS).body
            events = [event for event in parse_schedule(content or b"", timezone=timezone) if not event.generated]
        except (OSError, ScheduleError, ValueError) as exc:
            raise CommandError(f"{schedule}: {exc}") from None
        if not events:
            raise CommandError(f"{schedule}: no talks in it, so no rooms to make")

        directory = Path(settings.ROOMS_CONFIG_DIR)
        private_path = directory / PRIVATE_FILE
        try:
            main = read_commented_json(directory / MAIN_FILE)
            private = read_commented_json(private_path) if private_path.exists() else {}
        except (ConfigError, OSError) as exc:
            raise CommandError(str(exc)) from None
        updated, planned = plan_rooms(
            events,
            location=location,
            timezone=timezone,
            merged=deep_merge(main, private),
            private=private,
            replace=replace,
        )
        try:
            parse_config(main, updated)  # never write a file the site would refuse
        except ConfigError as exc:
            raise CommandError(str(exc)) from None

        for room in planned:
            what = "added" if room.added else "kept "
            self.stdout.write(f"{what} {room.name}: schedule-key {room.source_room!r}, {room.talks} talks")
        removed = [name for name, values in updated.items() if values is None and private.get(name, {}) is not None]
        for name in sorted(removed):
            self.stdout.write(f"removed {name}")
        if dry_run:
            self.stdout.write(f"(dry run: {PRIVATE_FILE} not changed)")
            return
        write_private(private_path, updated)
        self.stdout.write(f"wrote {private_path}; apply with `manage.py reload_config` (or start the site)")


def write_private(path: Path, contents: dict) -> None:
    """Replace the file at once (never half written), keeping its leading comment lines and its mode."""
    old = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    comments = old[: next((i for i, line in enumerate(old) if not line.startswith("//")), 0)]
    text = "\n".join([*comments, json.dumps(contents, indent=2, ensure_ascii=False)]) + "\n"
    temporary = path.with_name(path.name + ".new")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)
