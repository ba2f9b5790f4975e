"""The lean path: hot views served without Django's middleware, same answers."""

import json

import pytest
from django.contrib.auth.models import User
from django.http import JsonResponse
from django.urls import path
from redis.exceptions import RedisError

from common.cors import cross_origin
from common.lean import LeanApplication, lean
from testing.client import call_application
from testing.factories import ROOMS


async def call(method: str, path: str, body: bytes = b"", headers=()) -> tuple[int, dict, bytes]:
    """A raw ASGI request (no test client conveniences): bodies without Content-Length, any Host."""
    if not any(name == b"host" for name, _ in headers):
        headers = [(b"host", b"127.0.0.1"), *headers]
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": list(headers)}
    status, raw_headers, answer = await call_application(scope, body)
    return status, {k.decode().lower(): v.decode() for k, v in raw_headers}, answer


@pytest.mark.usefixtures("redis")
async def test_lean_view_answers_with_security_headers():
    status, headers, body = await call("GET", "/tracker/api/rooms")

    assert status == 200
    assert [room["name"] for room in json.loads(body)["rooms"]] == list(ROOMS)
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-length"] == str(len(body))


async def test_lean_heartbeat_over_64_kib_is_413_even_without_content_length(encoder_token):
    body = json.dumps({"room": "example", "encoder": "enc-1", "streams": [], "pad": "x" * 100_000}).encode()

    status, _, answer = await call(
        "POST", "/tracker/api/heartbeat", body, headers=[(b"authorization", f"Bearer {encoder_token}".encode())]
    )

    assert status == 413
    assert json.loads(answer)["field"] == "body"


async def test_lean_view_error_is_json_500_without_traceback(redis_client):
    redis_client.set("streaming:version", "not a number")  # no reader expects that: a bug, not bad input

    status, _, body = await call("GET", "/tracker/api/rooms/example")

    assert status == 500
    assert json.loads(body) == {"error": "internal", "message": "internal server error"}


async def test_other_paths_go_through_django_with_its_middleware(transactional_db):
    status, headers, _ = await call("GET", "/tracker/login/")

    assert status == 200
    assert "csrftoken=" in headers.get("set-cookie", "")  # CSRF middleware ran


async def test_lean_refuses_hosts_outside_allowed_hosts_but_health_checks_answer_any():
    refused, _, body = await call("GET", "/tracker/api/rooms", headers=[(b"host", b"evil.example")])
    health, _, _ = await call("GET", "/healthz", headers=[(b"host", b"10.0.0.7:8000")])

    assert (refused, json.loads(body)["error"]) == (400, "bad_request")
    assert health == 200


async def test_lean_broken_form_body_is_400_not_500():
    body = b"secret=x&group=example"
    headers = [(b"content-type", b"multipart/form-data")]  # no boundary: the form cannot be read

    status, _, answer = await call("POST", "/tracker/endpoint/register", body, headers=headers)

    assert status == 400
    assert b"Traceback" not in answer


async def test_unknown_tracker_path_is_json_404(async_client):
    response = await async_client.get("/tracker/api/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_django_path_keeps_its_own_404(admin_client):
    response = admin_client.get("/tracker/admin/no-such-app/")

    assert response.status_code == 404


def test_public_pages_and_api_take_the_lean_path_and_operator_pages_do_not():
    lean = [
        "/",
        "/example",
        "/example/embed",
        "/example/schedule",
        "/example/rss",
        "/monitor",
        "/graphs",
        "/tracker/api/rooms",
        "/tracker/api/heartbeat",
        "/healthz",
    ]
    django = ["/tracker/dashboard/", "/tracker/login/", "/tracker/admin/"]

    assert [path for path in lean if LeanApplication.lean_view({"type": "http", "path": path}) is None] == []
    assert [path for path in django if LeanApplication.lean_view({"type": "http", "path": path})] == []


def test_lean_refuses_a_view_that_is_not_async_when_decorated():
    def blocking(request):
        return None

    with pytest.raises(TypeError, match="needs an async view"):
        lean(blocking)


# Views of this module's own URLs (the tests marked urls=__name__).
@lean
async def lean_counting_users(request):
    return JsonResponse({"users": await User.objects.acount()})


@lean
@cross_origin
async def lean_public(request):
    return JsonResponse({"path": "lean"})


@cross_origin
def django_public(request):
    return JsonResponse({"path": "django"})


@lean
@cross_origin
async def lean_public_failing(request):
    raise RedisError("store away")


@cross_origin
def django_public_failing(request):
    raise RedisError("store away")


urlpatterns = [
    path("lean-db", lean_counting_users),
    path("lean-public", lean_public),
    path("django-public", django_public),
    path("lean-public-failing", lean_public_failing),
    path("django-public-failing", django_public_failing),
]


@pytest.mark.urls(__name__)
async def test_lean_view_touching_the_database_is_refused_and_recorded(
    async_client, lean_database_guard, transactional_db
):
    response = await async_client.get("/lean-db")

    assert response.status_code == 500
    assert lean_database_guard.refused[0].startswith("tracker.tests.test_lean.lean_counting_users ran SELECT")
    # The autouse guard would fail this test on the record: it is what this test expects, so taken back.
    lean_database_guard.refused.clear()


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/lean-public", "/django-public"])
async def test_cross_origin_opens_get_to_allowed_origins_on_both_paths(async_client, settings, url):
    settings.TRACKER_ALLOWED_ORIGINS = ["https://frontend.example"]
    allowed = await async_client.get(url, headers={"Origin": "https://frontend.example"})
    other = await async_client.get(url, headers={"Origin": "https://evil.example"})
    posted = await async_client.post(url, headers={"Origin": "https://frontend.example"})

    assert allowed.json()["path"] == url.split("/")[1].split("-")[0]  # the path it was served on
    assert allowed["Access-Control-Allow-Origin"] == "https://frontend.example"
    assert "Origin" in allowed["Vary"] and "Origin" in other["Vary"]
    assert "Access-Control-Allow-Origin" not in other
    assert "Access-Control-Allow-Origin" not in posted


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/lean-public-failing", "/django-public-failing"])
async def test_cross_origin_error_answers_are_readable_by_the_allowed_origin(async_client, settings, url):
    """A frontend elsewhere must see the 503 (and retry), not a browser's opaque CORS failure."""
    settings.TRACKER_ALLOWED_ORIGINS = ["https://frontend.example"]
    response = await async_client.get(url, headers={"Origin": "https://frontend.example"})

    assert response.status_code == 503
    assert response["Access-Control-Allow-Origin"] == "https://frontend.example"


async def test_public_api_is_readable_cross_origin_but_heartbeats_and_pages_are_not(async_client, settings):
    settings.TRACKER_ALLOWED_ORIGINS = ["https://frontend.example"]
    origin = {"Origin": "https://frontend.example"}
    api = ["/tracker/api/rooms", "/tracker/api/rooms/example", "/tracker/api/venue", "/tracker/api/history"]
    api.append("/tracker/api/rooms/example/schedule.json")
    others = ["/", "/example", "/healthz", "/tracker/metrics"]

    opened = {url: (await async_client.get(url, headers=origin)).get("Access-Control-Allow-Origin") for url in api}
    closed = {url: (await async_client.get(url, headers=origin)).get("Access-Control-Allow-Origin") for url in others}

    assert opened == dict.fromkeys(api, "https://frontend.example")
    assert closed == dict.fromkeys(others)
