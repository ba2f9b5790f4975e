"""Public pages. Server-rendered so they work without JavaScript; live.js
keeps them current over the tracker's live socket."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import tracker_api


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {"tracker_public_url": settings.TRACKER_PUBLIC_URL.rstrip("/"), **context}
    return render(request, f"frontend/{template}", context, status=status)


def needs_tracker(view: Callable[..., Awaitable[HttpResponse]]) -> Callable[..., Awaitable[HttpResponse]]:
    """Answer 503 with a friendly page while the tracker cannot be reached."""

    @functools.wraps(view)
    async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return await view(request, *args, **kwargs)
        except tracker_api.TrackerUnavailable:
            return page(request, "unavailable.html", {}, status=503)

    return wrapper


@needs_tracker
async def index(request: HttpRequest) -> HttpResponse:
    rooms = await tracker_api.room_list()
    return page(request, "index.html", {"rooms": rooms, "live_rooms": [r for r in rooms if r["live"]]})


@needs_tracker
async def room(request: HttpRequest, name: str) -> HttpResponse:
    rooms = await tracker_api.room_list()
    current = next((r for r in rooms if r["name"] == name), None)
    if current is None:
        return page(request, "404.html", {"name": name}, status=404)
    return page(request, "room.html", {"room": current, "rooms": rooms})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return page(request, "404.html", {}, status=404)
