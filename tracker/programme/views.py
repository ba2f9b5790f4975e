"""A room's programme over HTTP: JSON (now, next, the day), RSS and iCalendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
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
from tracker.schedule import Event, event_from_dict, event_to_dict, ics_calendar, rss_feed, schedule_json
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


def parse_day(text: str) -> date:
    """A programme day to list: an ISO date (YYYY-MM-DD) in a sane range."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-12-27") from None
    if not 1971 <= day.year <= 9000:
        raise ValueError("must be between the years 1971 and 9000")
    return day


@lean
@cross_origin
@require_safe
async def schedule_json_view(request: HttpRequest, name: str) -> HttpResponse:
    """Now and next at `?at=` (default: now), the days the schedule holds, and the talks of
    `?day=` (default: the programme day of `at`)."""
    try:
        day = parse_day(request.GET["day"]) if request.GET.get("day") else None
    except ValueError as exc:
        return json_error(400, "invalid", str(exc), field="day")
    found = await programme(request, name)
    if isinstance(found, HttpResponse):
        return found
    room, events, at = found
    return JsonResponse(schedule_json(events, now=at, timezone=timezone_of(room), day=day))


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


@lean
@cross_origin
@require_safe
async def talk_view(request: HttpRequest, name: str, guid: str) -> HttpResponse:
    """One talk of the room's schedule, abstract included (a recording's page shows it)."""
    room = get_config().rooms.get(name)
    if room is None:
        return json_error(404, "unknown_room", f"no room named {name!r}", field="room")
    stored = await store.get_schedule(store.get_redis(), room.name) or []
    found = next((data for data in stored if data.get("guid") == guid), None)
    if found is None:
        return json_error(404, "unknown_talk", f"no talk {guid[:100]!r} in this room's schedule", field="talk")
    return JsonResponse(event_to_dict(event_from_dict(found)))
