"""Operators' pages beside the dashboard: history per room and encoder, maintenance windows, test alerts.

Thin views: the history is built by tracker.ops.room_history, windows are
kept by tracker.ops.maintenance, alerts are sent by tracker.ops.notify.
"""

from __future__ import annotations

import csv
import functools
import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from tracker.config import get_config
from tracker.encoders import store
from tracker.encoders.heartbeat import ENCODER_NAME
from tracker.ops import alert_check, maintenance, room_history, units
from tracker.ops.actions import Refused

View = Callable[..., Awaitable[HttpResponse]]
# A cell a spreadsheet would run as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def operators_only(view: View) -> View:
    """Log in first, and be staff (a plain account gets a 403, not a login loop)."""

    @functools.wraps(view)
    async def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = await request.auser()
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_staff:
            raise PermissionDenied("operators only: ask an admin to make you staff")
        return await view(request, *args, **kwargs)

    return check


def csv_response(rows: list[list[Any]], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        # Reasons come from encoders and notes from people: never a formula in a spreadsheet.
        writer.writerow(
            [f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell for cell in row]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
@operators_only
async def history_page(request: HttpRequest, room: str, encoder: str | None = None) -> HttpResponse:
    """A room's or an encoder's history; ?export=transitions or ?export=series for CSV."""
    config_room = get_config().rooms.get(room)
    if config_room is None or (encoder is not None and not ENCODER_NAME.match(encoder)):
        raise Http404("no such room or encoder")
    kept = get_config().settings["history-hours"]
    hours = request.GET.get("hours", str(kept))
    if not hours.isdigit() or not 1 <= int(hours) <= kept:
        return JsonResponse({"error": "invalid", "message": f"hours from 1 to {kept}", "field": "hours"}, status=400)
    export = request.GET.get("export")
    if export not in (None, "transitions", "series"):
        return JsonResponse({"error": "invalid", "message": "transitions or series", "field": "export"}, status=400)
    series = {None: "buckets", "series": "points"}.get(export)
    redis, now = store.get_redis(), time.time()
    data = await room_history.read(redis, config_room, encoder, now=now, hours=int(hours), series=series)
    if export is not None:
        name = "-".join(filter(None, [room, encoder, export]))
        return csv_response(room_history.csv_rows(data, export), f"{name}.csv")
    periods = [(h, f"{h} h") for h in (1, 6, 24, 72) if h < kept] + [(kept, f"all {kept} h kept")]
    context = {
        "room": config_room,
        "encoder": encoder,
        "hours": int(hours),
        "periods": periods,
        **room_history.page(data),
    }
    return render(request, "tracker/history.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@operators_only
async def maintenance_page(request: HttpRequest) -> HttpResponse:
    """Planned windows: listed, added (POST action=plan) and removed (POST action=cancel); test alerts."""
    redis, now = store.get_redis(), time.time()
    problem, results = None, None
    if request.method == "POST":
        user = await request.auser()
        action = request.POST.get("action")
        try:
            if action == "plan":
                await maintenance.plan(redis, request.POST.dict(), by=user.get_username(), now=now)
            elif action == "cancel":
                await maintenance.cancel(redis, request.POST.get("id"))
            elif action == "test":
                results = await alert_check.send_test(request.POST.get("room"))
            else:
                raise Refused("action: plan, cancel or test")
        except Refused as refused:
            problem = str(refused)
        if problem is None and results is None:
            return HttpResponseRedirect(reverse("maintenance"))  # after a change, a reload changes nothing
    windows = await shown_windows(now=now)
    context = {
        "windows": windows,
        "rooms": list(get_config().rooms.values()),
        "problem": problem,
        "results": results,
        "form": request.POST if problem else {},
    }
    return render(request, "tracker/maintenance.html", context, status=400 if problem else 200)


@require_safe
@operators_only
async def maintenance_list(request: HttpRequest) -> JsonResponse:
    """The windows not yet over, for the dashboard."""
    return JsonResponse({"windows": await shown_windows(now=time.time())})


async def shown_windows(*, now: float) -> list[dict[str, Any]]:
    """The windows not yet over, with their room's title and times in words (in the room's zone)."""
    rooms = get_config().rooms
    return [
        {
            **window,
            "title": rooms[window["room"]].title,
            "now": window["from"] <= now,
            "from_text": units.local(window["from"], zone(window["room"]), "%a %d %b %H:%M"),
            "to_text": units.local(window["to"], zone(window["room"]), "%a %d %b %H:%M"),
        }
        for window in await maintenance.windows(store.get_redis(), now=now)
    ]


def zone(room: str) -> str:
    return get_config().rooms[room].settings.get("schedule-timezone") or "UTC"
