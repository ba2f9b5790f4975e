"""Public pages, all on the lean path (project/lean.py): they need no database,
session or CSRF middleware. Server-rendered so they work without JavaScript; the page
scripts keep them current over the tracker's live socket."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from common.addresses import request_address
from common.lean import lean

from . import tracker_api
from .extras import DEFAULT_BRANDING, branding, day_with_recordings, prepare, sources


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {
        "tracker_public_url": settings.TRACKER_PUBLIC_URL.rstrip("/"),
        "trust_media_seconds": settings.PLAYER_TRUST_MEDIA_SECONDS,
        "event": getattr(request, "branding", DEFAULT_BRANDING),
        **context,
    }
    return render(request, f"frontend/{template}", context, status=status)


def needs_tracker(view: Callable[..., Awaitable[HttpResponse]]) -> Callable[..., Awaitable[HttpResponse]]:
    """Answer 503 with a friendly page while the tracker cannot be reached."""

    @functools.wraps(view)
    async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            request.branding = branding(await tracker_api.event())
            return await view(request, *args, **kwargs)
        except tracker_api.TrackerUnavailable:
            return page(request, "unavailable.html", {}, status=503)

    return wrapper


def schedule_now() -> datetime:
    """The schedules' time: now, moved by the rehearsal offset (as the tracker's worker reads them)."""
    return datetime.now(UTC) + timedelta(seconds=settings.SCHEDULE_OFFSET_SECONDS)


async def prepared_rooms() -> list[dict[str, Any]]:
    """Every room, ready for the templates."""
    now = schedule_now()
    return [prepare(room, now) for room in await tracker_api.room_list()]


async def day_of(room: dict[str, Any]) -> dict[str, Any]:
    """The room's programme for the day, each talk with its recording link."""
    schedule = (await tracker_api.get(f"/tracker/api/rooms/{quote(room['name'])}/schedule.json")).json()
    schedule = schedule if isinstance(schedule, dict) else {}
    return {**schedule, "day": day_with_recordings(schedule.get("day"), room["extras"]["relive"], schedule_now())}


async def rooms_and_venue(request: HttpRequest) -> tuple[list[dict[str, Any]], bool]:
    rooms, venue = await asyncio.gather(prepared_rooms(), tracker_api.is_venue(request_address(request)))
    return rooms, venue


def find(rooms: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((room for room in rooms if room["name"] == name), None)


@lean
@require_safe
@needs_tracker
async def index(request: HttpRequest) -> HttpResponse:
    rooms = await prepared_rooms()
    return page(request, "index.html", {"rooms": rooms})


@lean
@require_safe
@needs_tracker
async def room(request: HttpRequest, name: str) -> HttpResponse:
    rooms, venue = await rooms_and_venue(request)
    current = find(rooms, name)
    if current is None:
        return page(request, "404.html", {"name": name}, status=404)
    if venue:
        return page(request, "inroom.html", {"room": current})
    # Recordings of the talks that ended today, newest first (from the schedule or the room's template).
    # Without the schedule the page still plays: the script adds the recordings once it reads them.
    try:
        day = (await day_of(current))["day"]
    except tracker_api.TrackerUnavailable:
        day = []
    recorded = [t for t in day if t["ended"] and t["relive"]]
    return page(request, "room.html", {"room": current, "sources": sources(current), "recorded": recorded[::-1][:3]})


@lean
@xframe_options_exempt
@require_safe
@needs_tracker
async def embed(request: HttpRequest, name: str) -> HttpResponse:
    """The player alone, for iframes on other sites: the only page that may be framed."""
    rooms, venue = await rooms_and_venue(request)
    current = find(rooms, name)
    if current is None:
        response = page(request, "404.html", {"name": name}, status=404)
    else:
        response = page(request, "embed.html", {"room": current, "sources": sources(current), "venue": venue})
    response["Content-Security-Policy"] = "frame-ancestors *"
    return response


@lean
@require_safe
@needs_tracker
async def monitor(request: HttpRequest) -> HttpResponse:
    rooms = await prepared_rooms()
    return page(request, "monitor.html", {"rooms": rooms})


@lean
@require_safe
async def graphs(request: HttpRequest) -> HttpResponse:
    """Stacked clients and bandwidth per room; the script reads the tracker's history API."""
    return page(request, "graphs.html", {"ranges": (10, 30, 60, 120)})


@lean
@require_safe
@needs_tracker
async def programme(request: HttpRequest, name: str) -> HttpResponse:
    """The room's programme for the day, with what is on now."""
    rooms = await prepared_rooms()
    current = find(rooms, name)
    if current is None:
        return page(request, "404.html", {"name": name}, status=404)
    return page(request, "programme.html", {"room": current, "schedule": await day_of(current)})


def feed_view(suffix: str, **params: str) -> Callable[..., Awaitable[HttpResponse]]:
    """A view passing one of the tracker's schedule feeds through, as it is."""

    @lean
    @require_safe
    @needs_tracker
    async def view(request: HttpRequest, name: str) -> HttpResponse:
        query = {key: request.build_absolute_uri(value.format(name=name)) for key, value in params.items()}
        path = f"/tracker/api/rooms/{quote(name)}/schedule.{suffix}"
        answer = await tracker_api.get(path + ("?" + urlencode(query) if query else ""))
        if answer.status == 404:
            return page(request, "404.html", {"name": name}, status=404)
        return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)

    return view


schedule_json = feed_view("json")
schedule_rss = feed_view("rss", link="/{name}")  # RSS wants an absolute link to the room page
schedule_ics = feed_view("ics")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/tracker/"):  # API clients get JSON, as for every other error there
        return JsonResponse({"error": "not_found", "message": "no such path"}, status=404)
    return page(request, "404.html", {}, status=404)
