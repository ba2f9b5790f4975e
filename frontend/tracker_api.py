"""The frontend's only way to the tracker: its public JSON API.

By default the tracker runs in the same process and its views are called
directly by URL, with no network hop; with TRACKER_URL set, the same paths
are fetched over HTTP from another machine. Either way the frontend sees
exactly what any other client of the API sees.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.urls import Resolver404, ResolverMatch, resolve

from common.per_loop import PerLoop

HTTP_TIMEOUT_SECONDS = 3
logger = logging.getLogger(__name__)


class TrackerUnavailable(Exception):
    """The tracker did not answer usefully; pages show a 503."""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise TrackerUnavailable("tracker answered something that is not JSON") from None


async def get(path: str) -> Answer:
    """GET a tracker path; 5xx and unreachable trackers raise TrackerUnavailable."""
    if settings.TRACKER_URL:
        answer = await asyncio.to_thread(fetch_over_http, settings.TRACKER_URL.rstrip("/") + path)
    else:
        answer = await call_in_process(path)
    if answer.status >= 500:
        raise TrackerUnavailable(f"tracker answered {answer.status}")
    return answer


async def get_json(path: str) -> tuple[int, Any]:
    """GET a tracker API path; returns (status, decoded JSON body)."""
    answer = await get(path)
    return answer.status, answer.json()


def fetch_over_http(url: str) -> Answer:
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return Answer(response.status, response.headers.get("Content-Type", ""), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers.get("Content-Type", ""), exc.read())
    except OSError as exc:
        raise TrackerUnavailable(str(exc)) from None


@functools.lru_cache(maxsize=256)
def tracker_view(path: str) -> ResolverMatch | None:
    """The view answering `path`, or None. Resolving walks the URL patterns, most of an
    in-process call's CPU (the venue check of every room page): once per path, not per call."""
    try:
        return resolve(path)
    except Resolver404:
        return None


async def call_in_process(path: str) -> Answer:
    parts = urlsplit(path)
    match = tracker_view(parts.path)
    if match is None:
        raise TrackerUnavailable(f"no tracker view at {parts.path}")
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = parts.path
    request.GET = QueryDict(parts.query)
    request.META["REMOTE_ADDR"] = "127.0.0.1"  # the caller is this very process
    try:
        response = await match.func(request, *match.args, **match.kwargs)
    except Exception as exc:  # whatever broke in there, the page shows a 503
        logger.warning("in-process tracker call %s failed: %r", parts.path, exc)
        raise TrackerUnavailable(str(exc)) from None
    return Answer(response.status_code, response.get("Content-Type", ""), response.content)


# The room list is the same for every page view of a second: when a talk
# starts and thousands of viewers arrive, the tracker is asked once per
# process and second, not once per page (it may be another machine).
ROOM_LIST_SECONDS = 1.0
# While the tracker does not answer, pages show what it said last, for this
# long: an outage of ours must not blank every room.
STALE_ROOM_LIST_SECONDS = 300.0


class RoomListCache:
    """The last room list of one event loop, and a lock so concurrent misses wait for one answer."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.fetched_at = self.asked_at = float("-inf")
        self.rooms: list[dict[str, Any]] = []
        self.event: dict[str, Any] = {}


_caches: PerLoop[RoomListCache] = PerLoop(RoomListCache)


async def room_list() -> list[dict[str, Any]]:
    """Every configured room with its public live state: at most a second old,
    or the last one the tracker gave while it does not answer (see room_list_age)."""
    cache = _caches.get()
    async with cache.lock:
        if time.monotonic() - cache.asked_at >= ROOM_LIST_SECONDS:
            cache.asked_at = time.monotonic()  # a tracker that fails is asked again a second later, not per page
            try:
                status, body = await get_json("/tracker/api/rooms")
                if status != 200:
                    raise TrackerUnavailable(f"room list answered {status}")
                cache.rooms, cache.fetched_at = body["rooms"], time.monotonic()
                cache.event = body.get("event") if isinstance(body.get("event"), dict) else {}
            except TrackerUnavailable as exc:
                if time.monotonic() - cache.fetched_at > STALE_ROOM_LIST_SECONDS:
                    raise
                logger.warning("tracker unreachable, pages show its last room list: %s", exc)
        if time.monotonic() - cache.fetched_at > STALE_ROOM_LIST_SECONDS:
            raise TrackerUnavailable("no room list from the tracker for too long")
        return cache.rooms


def room_list_stamp() -> float:
    """When this loop's room list came from the tracker: a page rendered from it stays right while this is unchanged."""
    cache = _caches.existing()
    return cache.fetched_at if cache else float("-inf")


def room_list_age() -> float:
    """Seconds since this loop's room list came from the tracker (inf: never)."""
    cache = _caches.existing()
    return time.monotonic() - cache.fetched_at if cache else float("inf")


async def event() -> dict[str, Any]:
    """The event's branding as the tracker's room list last gave it (name, logo, favicon, accent)."""
    await room_list()
    cache = _caches.existing()
    return cache.event if cache else {}


def forget_room_list() -> None:
    """Drop the cached room lists (tests change the state between two pages)."""
    _caches.clear()


async def is_venue(address: str) -> bool:
    """Whether the address is on the venue's networks (it gets the in-room page).

    When the tracker cannot say, the answer is no: the viewer sees the player,
    and the tracker's stream API still refuses venue addresses itself.
    """
    if not address:
        return False
    try:
        status, body = await get_json("/tracker/api/venue?" + urlencode({"address": address}))
    except TrackerUnavailable as exc:
        logger.warning("venue check failed: %s", exc)  # no viewer addresses in the logs
        return False
    return status == 200 and isinstance(body, dict) and body.get("venue") is True
