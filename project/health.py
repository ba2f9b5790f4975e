"""Health checks for load balancers: /healthz (the process answers) and
/readyz (it can do its work: config loaded and Redis reachable for a
tracker, the tracker reachable for a frontend alone). A tracker's /readyz
also carries "warnings" for operators (no live worker, Redis without
persistence) without turning unready: see tracker.site_health."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from frontend import tracker_api
from tracker import site_health, store
from tracker.config import ConfigError, get_config
from tracker.draining import draining

from .lean import any_host, lean

logger = logging.getLogger(__name__)


@any_host
@lean
@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@any_host
@lean
@require_GET
async def readyz(request: HttpRequest) -> JsonResponse:
    problems, warnings = {}, {}
    if draining():
        problems["draining"] = "stopping"  # load balancers: send nobody new here
    if "tracker" in settings.SITE_PARTS:
        try:
            get_config()
        except ConfigError as exc:
            logger.warning("not ready: %s", exc)
            problems["config"] = "invalid"
        try:
            warnings = await site_health.warnings(store.get_redis(), now=time.time())
        except (RedisError, OSError) as exc:
            problems["redis"] = type(exc).__name__
    else:  # a frontend alone is ready while it can show rooms: its tracker answers, or did lately
        try:
            await tracker_api.room_list()
        except tracker_api.TrackerUnavailable as exc:
            logger.warning("not ready: tracker unreachable: %s", exc)
            problems["tracker"] = "unreachable"
        else:
            if (age := tracker_api.room_list_age()) > 2 * tracker_api.ROOM_LIST_SECONDS:
                warnings["tracker"] = f"unreachable: pages show what it said {age:.0f} s ago"
    body = {"ok": not problems, **problems, **({"warnings": warnings} if warnings else {})}
    return JsonResponse(body, status=503 if problems else 200)
