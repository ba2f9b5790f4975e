"""The tracker's HTTP API: heartbeats in, room state out."""

from __future__ import annotations

import functools
import hmac
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from redis.exceptions import RedisError

from common.addresses import in_networks, is_loopback, is_venue, request_address
from common.cors import cross_origin
from common.lean import lean
from tracker.config import get_config
from tracker.encoders import client_budget, history, legacy, store
from tracker.encoders.heartbeat import (
    FORMATS,
    LANGUAGE,
    QUALITY,
    Heartbeat,
    InvalidField,
    bearer,
    decode_json,
    parse_heartbeat,
)
from tracker.encoders.ingest import Refused, accept_legacy, ingest
from tracker.encoders.state_machine import Identity
from tracker.live import public_rooms as rooms
from tracker.ops import metrics


def json_error(status: int, error: str, message: str, *, field: str | None = None) -> JsonResponse:
    body: dict[str, Any] = {"error": error, "message": message}
    if field is not None:
        body["field"] = field
    return JsonResponse(body, status=status)


def read_body(request: HttpRequest) -> bytes | None:
    """The request body, or None when it is over the upload limit."""
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    # A chunked body carries no Content-Length for Django to check up front.
    return body if len(body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE else None


def bearer_token(request: HttpRequest) -> str | None:
    return bearer(request.headers.get("Authorization", ""))


def secret_matches(given: str) -> bool:
    return hmac.compare_digest(given.encode(), get_config().secret.encode())


@lean
@csrf_exempt
@require_POST
async def heartbeat(request: HttpRequest) -> JsonResponse:
    body = read_body(request)
    if body is None:
        return json_error(413, "too_large", f"body over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes", field="body")
    redis, address = store.get_redis(), request_address(request)
    token = bearer_token(request)
    if token is None:
        response = json_error(401, "unauthorized", "send 'Authorization: Bearer <token>'", field="Authorization")
        response["WWW-Authenticate"] = "Bearer"
        return response
    try:
        beat = parse_heartbeat(decode_json(body))
    except InvalidField as exc:
        return json_error(400, "invalid", exc.message, field=exc.field)
    try:
        await ingest(redis, token=token, beat=beat, now=time.time(), client=address)
    except Refused as refused:
        if refused.status in (401, 403):
            await client_budget.count_refusal(redis, "heartbeat", address)
        return json_error(refused.status, refused.error, refused.message, field=refused.field)
    return JsonResponse({"ok": True, "next": beat.interval})


def plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@lean
@csrf_exempt
async def legacy_register(request: HttpRequest) -> HttpResponse:
    """The register endpoint of the previous generation, answering as the original did.

    Always 200 with one line of text: its clients exit on any other status.
    """
    if request.method != "POST":
        return never_cached(HttpResponseRedirect("/"))  # what the original did
    if read_body(request) is None:
        return legacy_answer(f"ERROR RequestDataTooBig body over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
    secret = request.POST.get("secret", "")  # a form that cannot be read is the client's 400, before any I/O
    redis, address = store.get_redis(), request_address(request)
    try:
        if await client_budget.exhausted(redis, "legacy", address):
            return legacy_answer("ERROR rate_limited too many refused posts from here; wait a few seconds")
    except RedisError:
        return legacy_answer("ERROR StoreUnavailable try again")
    config = get_config()
    if not config.secret:
        return legacy_answer("ERROR CONFIG (No secret)")
    if not secret_matches(secret):
        await client_budget.count_refusal(redis, "legacy", address)
        return legacy_answer("ERROR SECRET")
    room = config.rooms.get(request.POST.get("group", ""))
    if room is None:
        return legacy_answer("ERROR GROUP")
    # `address`: from the connection or a trusted proxy; never the client's REMOTE_ADDR field.
    try:
        report = legacy.parse_report(
            decode_legacy(request.POST.get("data", "{}")),
            address=address,
            templates=room.settings.get("legacy-streams", {}),
            public_host=room.settings.get("legacy-public-host", ""),
        )
    except legacy.LegacyError as exc:
        return legacy_answer(exc.answer)
    # One endpoint per sender address, as in the original tracker.
    identity = Identity(name="legacy-" + address.replace(":", "-"), room=room.name, role="endpoint", grace=config.grace)
    beat = Heartbeat(
        room=room.name,
        encoder=identity.name,
        interval=legacy.INTERVAL,
        streams=report.streams,
        counted=report.counted,
        totals=report.totals,
        stats=report.stats,
    )
    try:
        await accept_legacy(store.get_redis(), identity=identity, beat=beat, now=time.time())
    except Refused as refused:
        return legacy_answer(f"ERROR {refused.error} {refused.message}")
    except RedisError:
        return legacy_answer("ERROR StoreUnavailable try again")
    return legacy_answer("OK")


def legacy_answer(line: str) -> HttpResponse:
    # The original's exact content type and trailing newline; its clients strip() the body.
    return never_cached(HttpResponse(line + "\n", content_type="text/plain"))


def never_cached(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


def decode_legacy(data: str) -> object:
    try:
        return decode_json(data)
    except InvalidField:
        raise legacy.LegacyError("JSONDecodeError", "data is not valid JSON") from None


async def current_state(names: list[str]) -> store.Snapshot:
    return await store.read_snapshot(store.get_redis(), names)


@lean
@cross_origin
@require_safe
async def room_list(request: HttpRequest) -> JsonResponse:
    config = get_config()
    snapshot = await current_state(list(config.rooms))
    return JsonResponse(
        {
            "version": snapshot.version,
            "rooms": list(rooms.public_rooms(config.rooms, snapshot).values()),
            "event": rooms.public_event(config),
        }
    )


@lean
@cross_origin
@require_safe
async def room_detail(request: HttpRequest, name: str) -> JsonResponse:
    room = get_config().rooms.get(name)
    if room is None:
        return json_error(404, "unknown_room", f"no room named {name!r}", field="room")
    redis = store.get_redis()
    state = (await current_state([name])).rooms[name]
    return JsonResponse(rooms.room_detail(room, state.reports, state.attrs, await store.read_records(redis, room=name)))


@lean
@cross_origin
@require_safe
async def room_stream(request: HttpRequest, name: str) -> JsonResponse:
    """The endpoint a viewer should play; viewers in the venue get none."""
    config = get_config()
    room = config.rooms.get(name)
    if room is None:
        return json_error(404, "unknown_room", f"no room named {name!r}", field="room")
    if is_venue(request_address(request), config.settings["localips"]):
        return json_error(403, "in_room", "you are in the venue: the talk is in the room, not on the stream")
    fmt = request.GET.get("format") or None
    if fmt is not None and fmt not in FORMATS:
        return json_error(400, "invalid", f"must be one of {', '.join(sorted(FORMATS))}", field="format")
    quality = request.GET.get("quality") or None
    if quality is not None and not QUALITY.match(quality):
        return json_error(400, "invalid", "must be 1-32 letters, digits, '_' or '-'", field="quality")
    language = request.GET.get("language", "")
    if language and not LANGUAGE.match(language):
        return json_error(400, "invalid", "must be a language tag like en or pt-BR", field="language")
    redis = store.get_redis()
    records, assigned = await store.records_and_assigned(redis, name)
    stream = rooms.pick_stream(records, room=name, format=fmt, quality=quality, language=language, assigned=assigned)
    if stream is None:
        wanted = " ".join(filter(None, [fmt, quality]))
        return json_error(404, "no_stream", f"room {name!r} has no live {wanted + ' ' if wanted else ''}stream")
    await store.assign_stream(redis, name, stream["url"])
    return JsonResponse(stream)


@lean
@cross_origin
@require_safe
async def venue(request: HttpRequest) -> JsonResponse:
    """Whether the caller's address is in the venue's networks.

    Another address may be asked about only by our own servers (the
    frontend, on this machine or in TRUSTED_PROXIES): the venue's networks
    are not for anyone to map.
    """
    own = request_address(request)
    address = request.GET.get("address") or own
    server = request.META.get("REMOTE_ADDR", "")
    if address != own and not (is_loopback(server) or in_networks(server, settings.TRUSTED_PROXIES)):
        return json_error(403, "forbidden", "only your own address can be looked up", field="address")
    return JsonResponse({"address": address, "venue": is_venue(address, get_config().settings["localips"])})


@lean
@cross_origin
@require_safe
async def history_series(request: HttpRequest) -> JsonResponse:
    """Clients and bitrate per room over the last `range` minutes."""
    config = get_config()
    try:
        minutes = int(request.GET.get("range", "60"))
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= config.settings["history-hours"] * 60:
        return json_error(400, "invalid", f"minutes from 1 to {config.settings['history-hours'] * 60}", field="range")
    room = request.GET.get("room")
    if room is not None and room not in config.rooms:
        return json_error(404, "unknown_room", f"no room named {room!r}", field="room")
    names = [room] if room else list(config.rooms)
    series = await history.room_series(store.get_redis(), names, since=time.time() - minutes * 60)
    return JsonResponse({"step": history.STEP_SECONDS, "rooms": series})


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Operators' pages: log in first, and be staff (a plain account gets a 403, not a login loop)."""

    @login_required
    @functools.wraps(view)
    def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("operators only: ask an admin to make you staff")
        return view(request, *args, **kwargs)

    return check


@require_safe
@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "tracker/dashboard.html", {"timezone": get_config().timezone})


@lean
@require_safe
async def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """Site-wide figures for Prometheus: for a bearer token or an allowed address."""
    config = get_config().settings
    token = bearer_token(request)
    by_token = (
        bool(config["metrics-token"])
        and token is not None
        and hmac.compare_digest(token.encode(), config["metrics-token"].encode())
    )
    if not by_token and not in_networks(request_address(request), config["metrics-allow"]):
        return plain("forbidden: send the metrics token or scrape from an allowed address\n", 403)
    text = await metrics.exposition(store.get_redis())
    return HttpResponse(text, content_type="text/plain; version=0.0.4; charset=utf-8")
