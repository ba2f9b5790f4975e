"""Public pages, all on the lean path (project/lean.py): they need no database,
session or CSRF middleware. Server-rendered so they work without JavaScript; the page
scripts keep them current over the tracker's live socket."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from common.addresses import request_address
from common.lean import lean
from common.per_loop import PerLoop

from . import tracker_api
from .extras import DEFAULT_BRANDING, branding, day_with_recordings, prepare, sources
from .programme import day_label, days_of, whole_day
from .recordings import recorded_talk


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    event = getattr(request, "branding", DEFAULT_BRANDING)
    context = {
        "tracker_public_url": settings.TRACKER_PUBLIC_URL.rstrip("/"),
        "trust_media_seconds": settings.PLAYER_TRUST_MEDIA_SECONDS,
        "event": event,
        "timezone": event["timezone"],  # the event's, for times (templates name talks "event" too)
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


# A page rendered from the room list this process holds is the same for every
# viewer until the list is fetched again (at most once a second): reused
# meanwhile, a keynote's herd costs a render per room, variant and second
# instead of one per viewer (rendering the nested includes was most of a room
# page's CPU, docs/performance.md). Only found rooms are kept (a 404 names
# what the client asked), at most this many variants a second.
MAX_RENDERED_PAGES = 256


# When a page was rendered, its content type and its bytes.
Rendered = tuple[float, str, bytes]


@dataclass
class RenderedPages:
    """One event loop's rendered pages, from the room list fetched at `stamp`, and the renders under way."""

    stamp: float = float("-inf")
    pages: dict[tuple[Any, ...], Rendered] = field(default_factory=dict)
    # A herd's requests that miss together wait for the one render (None: it was not one to share).
    rendering: dict[tuple[Any, ...], asyncio.Future[Rendered | None]] = field(default_factory=dict)


_rendered: PerLoop[RenderedPages] = PerLoop(RenderedPages)


def from_rendered(rendered: Rendered) -> HttpResponse:
    return HttpResponse(rendered[2], content_type=rendered[1])


async def reused(
    request: HttpRequest, variant: tuple[Any, ...], render_page: Callable[[], Awaitable[HttpResponse]]
) -> HttpResponse:
    """The page `render_page` gives for this variant (and host, which the embed snippet shows), rendered at most
    once per room list and second, however many ask at once."""
    stamp = tracker_api.room_list_stamp()
    if stamp == float("-inf"):  # no room list fetched (the tracker has not answered yet): nothing to reuse
        return await render_page()
    cache = _rendered.get()
    if stamp != cache.stamp:
        cache.stamp, cache.pages = stamp, {}
    key = (*variant, request.scheme, request.get_host())
    kept = cache.pages.get(key)
    if kept is not None and time.monotonic() - kept[0] < tracker_api.ROOM_LIST_SECONDS:
        return from_rendered(kept)
    if (under_way := cache.rendering.get(key)) is not None:
        shared = await asyncio.shield(under_way)
        return from_rendered(shared) if shared is not None else await render_page()
    cache.rendering[key] = under_way = asyncio.get_running_loop().create_future()
    rendered: Rendered | None = None
    try:
        rendered_at = time.monotonic()
        response = await render_page()
        if response.status_code == 200:
            rendered = (rendered_at, response["Content-Type"], response.content)
            if cache.stamp == stamp and len(cache.pages) < MAX_RENDERED_PAGES:
                cache.pages[key] = rendered
        return response
    finally:
        under_way.set_result(rendered)
        del cache.rendering[key]


def schedule_now() -> datetime:
    """The schedules' time: now, moved by the rehearsal offset (as the tracker's worker reads them)."""
    return datetime.now(UTC) + timedelta(seconds=settings.SCHEDULE_OFFSET_SECONDS)


async def prepared_rooms() -> list[dict[str, Any]]:
    """Every room, ready for the templates."""
    now = schedule_now()
    return [prepare(room, now) for room in await tracker_api.room_list()]


async def day_of(room: dict[str, Any], day: str = "") -> dict[str, Any]:
    """The room's programme for `day` (an ISO date; default today), each talk with its recording link."""
    query = "?" + urlencode({"day": day}) if day else ""
    schedule = (await tracker_api.get(f"/tracker/api/rooms/{quote(room['name'])}/schedule.json{query}")).json()
    schedule = schedule if isinstance(schedule, dict) else {}
    return {**schedule, "day": day_with_recordings(schedule.get("day"), room["extras"]["relive"], schedule_now())}


def chosen_day(request: HttpRequest) -> str | JsonResponse:
    """The ?day= a programme page shows ("" for today), or the 400 naming the field."""
    day = request.GET.get("day", "")
    if day and not day_label(day):
        return JsonResponse({"error": "invalid", "message": f"{day[:20]!r} is not a date", "field": "day"}, status=400)
    return day


async def rooms_and_venue(request: HttpRequest) -> tuple[list[dict[str, Any]], bool]:
    rooms, venue = await asyncio.gather(prepared_rooms(), tracker_api.is_venue(request_address(request)))
    return rooms, venue


def find(rooms: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((room for room in rooms if room["name"] == name), None)


@lean
@require_safe
@needs_tracker
async def index(request: HttpRequest) -> HttpResponse:
    async def render_index() -> HttpResponse:
        return page(request, "index.html", {"rooms": await prepared_rooms()})

    return await reused(request, ("index",), render_index)


@lean
@require_safe
@needs_tracker
async def room(request: HttpRequest, name: str) -> HttpResponse:
    venue = await tracker_api.is_venue(request_address(request))
    return await reused(request, ("room", name, venue), lambda: render_room(request, name, venue))


async def render_room(request: HttpRequest, name: str, venue: bool) -> HttpResponse:
    current = find(await prepared_rooms(), name)
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
@needs_tracker
async def graphs(request: HttpRequest) -> HttpResponse:
    """Viewers (tabs here, players on the streaming servers) and bandwidth per room, stacked; the
    script reads the tracker's history API."""
    return page(request, "graphs.html", {"ranges": (10, 30, 60, 120), "rooms": await prepared_rooms()})


@lean
@require_safe
@needs_tracker
async def programme(request: HttpRequest, name: str) -> HttpResponse:
    """The room's programme for a day (?day=, default today), with what is on now."""
    rooms, day = await prepared_rooms(), chosen_day(request)
    current = find(rooms, name)
    if current is None:
        return page(request, "404.html", {"name": name}, status=404)
    if isinstance(day, HttpResponse):
        return day
    schedule = await day_of(current, day)
    return page(request, "programme.html", {"room": current, "schedule": schedule, "days": days_of([schedule])})


@lean
@require_safe
@needs_tracker
async def whole_programme(request: HttpRequest) -> HttpResponse:
    """Every room's programme for a day side by side (?day=, default today)."""
    day = chosen_day(request)
    if isinstance(day, HttpResponse):
        return day
    rooms = await prepared_rooms()
    schedules = list(await asyncio.gather(*(day_of(room, day) for room in rooms)))
    shown = day or next((s["date"] for s in schedules if s.get("date")), "")
    grid = whole_day(rooms, schedules, schedule_now())
    return page(request, "whole_programme.html", {"rooms": rooms, "days": days_of(schedules), "date": shown, **grid})


@lean
@require_safe
@needs_tracker
async def recording(request: HttpRequest, name: str, guid: str) -> HttpResponse:
    """A talk's recording played here, with its title, speakers and description."""
    current = find(await prepared_rooms(), name)
    if current is None:
        return page(request, "404.html", {"name": name}, status=404)
    answer = await tracker_api.get(f"/tracker/api/rooms/{quote(name)}/talks/{quote(guid, safe='')}.json")
    talk = recorded_talk(answer.json(), current["extras"]["relive"], schedule_now()) if answer.status == 200 else None
    if talk is None:  # no such talk, or none with a recording (opted out, no link)
        return page(request, "404.html", {}, status=404)
    return page(request, "recording.html", {"room": current, "talk": talk})


def feed_view(suffix: str, **params: str) -> Callable[..., Awaitable[HttpResponse]]:
    """A view passing one of the tracker's schedule feeds through, as it is."""

    @lean
    @require_safe
    @needs_tracker
    async def view(request: HttpRequest, name: str) -> HttpResponse:
        # The moment and day to read the schedule at, as the tracker's API takes them.
        query = {key: request.GET[key] for key in ("at", "day") if request.GET.get(key)}
        query |= {key: request.build_absolute_uri(value.format(name=name)) for key, value in params.items()}
        path = f"/tracker/api/rooms/{quote(name)}/schedule.{suffix}"
        answer = await tracker_api.get(path + ("?" + urlencode(query) if query else ""))
        if answer.status == 404:
            return page(request, "404.html", {"name": name}, status=404)
        return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)

    return view


schedule_json = feed_view("json")
schedule_rss = feed_view("rss", link="/{name}")  # RSS wants an absolute link to the room page
schedule_ics = feed_view("ics")


@lean
@require_safe
async def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on every page: the event's favicon when set, else ours."""
    try:
        icon = branding(await tracker_api.event())["favicon"]
    except tracker_api.TrackerUnavailable:
        icon = ""
    response = HttpResponseRedirect(icon or static("frontend/favicon.ico"))
    patch_cache_control(response, public=True, max_age=3600)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/tracker/"):  # API clients get JSON, as for every other error there
        return JsonResponse({"error": "not_found", "message": "no such path"}, status=404)
    return page(request, "404.html", {}, status=404)
