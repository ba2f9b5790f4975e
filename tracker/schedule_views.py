"""A room's programme over HTTP: JSON (now, next, the day), RSS and iCalendar."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from project.lean import lean

from . import store
from .config import get_config
from .schedule import Event, ics_calendar, rss_feed, schedule_json
from .schedule_sync import room_events, schedule_now
from .views import json_error


class Refusal(Exception):
    def __init__(self, response: JsonResponse):
        self.response = response


def moment(request: HttpRequest) -> datetime:
    """`?at=` (ISO 8601 with an offset) for a look at another time; default: now."""
    text = request.GET.get("at")
    if not text:
        return schedule_now()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise Refusal(json_error(400, "invalid", "must be ISO 8601 with a time zone offset", field="at"))
    return at


async def programme(request: HttpRequest, name: str) -> tuple[str, list[Event], datetime]:
    room = get_config().rooms.get(name)
    if room is None:
        raise Refusal(json_error(404, "unknown_room", f"no room named {name!r}", field="room"))
    at = moment(request)
    events = await room_events(store.get_redis(), room, now=at)
    return room.settings["schedule-timezone"], events or [], at


def schedule_view(render):
    """Wrap a renderer of (room name, timezone, events, moment) into a GET view."""

    @lean
    @require_GET
    async def view(request: HttpRequest, name: str) -> HttpResponse:
        try:
            timezone, events, at = await programme(request, name)
        except Refusal as refusal:
            return refusal.response
        return render(request, name, timezone, events, at)

    return view


@schedule_view
def schedule_json_view(request, name, timezone, events, at) -> JsonResponse:
    return JsonResponse(schedule_json(events, now=at, timezone=timezone))


@schedule_view
def schedule_rss_view(request, name, timezone, events, at) -> HttpResponse:
    room = get_config().rooms[name]
    # The room's page as the caller knows it (?link=, from the frontend), else ours.
    given = request.GET.get("link", "")
    link = room.settings.get("link") or (given if given.startswith(("http://", "https://")) else "")
    link = link or request.build_absolute_uri(f"/{name}")
    feed = rss_feed(events, now=at, timezone=timezone, title=room.title, link=link)
    return HttpResponse(feed, content_type="application/rss+xml; charset=utf-8")


@schedule_view
def schedule_ics_view(request, name, timezone, events, at) -> HttpResponse:
    calendar = ics_calendar(events, now=at, name=get_config().rooms[name].title)
    return HttpResponse(calendar, content_type="text/calendar; charset=utf-8")
