"""A room's programme over HTTP: JSON (now, next, the day), RSS and iCalendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import validate_host
from django.views.decorators.http import require_safe

from common.cors import cross_origin
from common.lean import lean
from tracker.config import Room, get_config
from tracker.encoders import store
from tracker.programme.sync import parse_moment, room_events, schedule_now, timezone_of
from tracker.schedule import Event, ics_calendar, rss_feed, schedule_json
from tracker.views import json_error

Programme = tuple[Room, list[Event], datetime]


async def programme(request: HttpRequest, name: str) -> Programme | JsonResponse:
    """The room, its events around `?at=` (default: now), and that moment; or the error to answer."""
    room = get_config().rooms.get(name)
    if room is None:
        return json_error(404, "unknown_room", f"no room named {name!r}", field="room")
    try:
        at = parse_moment(request.GET["at"]) if request.GET.get("at") else schedule_now()
    except ValueError as exc:
        return json_error(400, "invalid", str(exc), field="at")
    return room, await room_events(store.get_redis(), room, now=at) or [], at


def programme_view(render: Callable[[HttpRequest, Room, list[Event], datetime], HttpResponse]):
    """A GET view answering with `render(request, room, events, moment)`, or the programme's error."""

    @lean
    @cross_origin
    @require_safe
    async def view(request: HttpRequest, name: str) -> HttpResponse:
        found = await programme(request, name)
        return found if isinstance(found, HttpResponse) else render(request, *found)

    return view


@programme_view
def schedule_json_view(request: HttpRequest, room: Room, events: list[Event], at: datetime) -> HttpResponse:
    return JsonResponse(schedule_json(events, now=at, timezone=timezone_of(room)))


def own_site(url: str) -> bool:
    """Whether a URL points at this site or its frontend (TRACKER_ALLOWED_ORIGINS)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:  # "http://[": not a URL, so not ours
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin in settings.TRACKER_ALLOWED_ORIGINS or validate_host(parts.hostname, settings.ALLOWED_HOSTS)


@programme_view
def schedule_rss_view(request: HttpRequest, room: Room, events: list[Event], at: datetime) -> HttpResponse:
    # The room's page as the frontend knows it (?link=), else ours; never a
    # link to a site that is not ours.
    given = request.GET.get("link", "")
    link = room.settings.get("link") or (given if own_site(given) else "")
    feed = rss_feed(
        events,
        now=at,
        timezone=timezone_of(room),
        title=room.title,
        link=link or request.build_absolute_uri(f"/{room.name}"),
    )
    return HttpResponse(feed, content_type="application/rss+xml; charset=utf-8")


@programme_view
def schedule_ics_view(request: HttpRequest, room: Room, events: list[Event], at: datetime) -> HttpResponse:
    return HttpResponse(ics_calendar(events, now=at, name=room.title), content_type="text/calendar; charset=utf-8")
