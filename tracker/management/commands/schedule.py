import asyncio
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from tracker.config import ConfigError, get_config
from tracker.encoders import store
from tracker.programme.sync import parse_moment, push_now_next, room_events, schedule_now, sync
from tracker.schedule import now_and_next


def moment_option(text: str) -> datetime:
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise CommandError(f"--at: {exc}") from None


class Command(BaseCommand):
    help = "Schedules: sync them now, show a room's programme at a moment, or compute a rehearsal offset."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        sync_parser = actions.add_parser("sync", help="fetch schedules now and store what changed")
        sync_parser.add_argument("--room", help="only this room's source")
        show = actions.add_parser("show", help="a room's programme around a moment, with now and next")
        show.add_argument("room")
        show.add_argument("--at", help="ISO 8601 with offset (default: now)")
        offset = actions.add_parser("offset", help="print SCHEDULE_OFFSET_SECONDS that makes now look like --at")
        offset.add_argument("--at", required=True)

    def handle(self, *args, action, **options):
        try:
            get_config()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        asyncio.run(getattr(self, f"handle_{action}")(**options))

    async def handle_sync(self, *, room, **options):
        if room is not None and room not in get_config().rooms:
            raise CommandError(f"no room named {room!r}")
        redis = store.connect()
        try:
            changed = await sync(redis, only=room)
            # Viewers see the result now, not at the worker's next boundary.
            await push_now_next(redis, now=schedule_now())
            health = await store.get_ops_state(redis, "schedules")
        finally:
            await redis.aclose()
        for name, status in sorted(health.items()):
            if room is None or name == room:
                result = f"error: {status['error']}" if status.get("error") else f"{status.get('events', 0)} events"
                self.stdout.write(f"{name}: {result}{' (changed)' if name in changed else ''}")

    async def handle_show(self, *, room, at, **options):
        config_room = get_config().rooms.get(room)
        if config_room is None:
            raise CommandError(f"no room named {room!r}")
        moment = moment_option(at) if at else schedule_now()
        redis = store.connect()
        try:
            events = await room_events(redis, config_room, now=moment)
        finally:
            await redis.aclose()
        if events is None:
            raise CommandError(f"{room} has no schedule yet: set 'schedule' in its config and run `schedule sync`")
        tz = moment.tzinfo
        state = now_and_next(events, now=moment)
        for event in events:
            mark = "now " if event is state.current else "next" if event is state.next else "    "
            kind = f"[{event.filler}] " if event.generated else ""
            start, end = event.start.astimezone(tz), event.end.astimezone(tz)
            self.stdout.write(f"{mark} {start:%a %H:%M}-{end:%H:%M} {kind}{event.title}")

    async def handle_offset(self, *, at, **options):
        moment = moment_option(at)
        seconds = (moment - datetime.now(tz=moment.tzinfo)).total_seconds()
        self.stdout.write(f"SCHEDULE_OFFSET_SECONDS={round(seconds)}")
