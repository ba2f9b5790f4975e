"""The lean path: hot views served without Django's middleware, same answers."""

import json

from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application

from common.lean import LeanApplication


async def call(method: str, path: str, body: bytes = b"", headers=()) -> tuple[int, dict, bytes]:
    app = LeanApplication(get_asgi_application())  # built now: middleware reads the test's settings
    if not any(name == b"host" for name, _ in headers):
        headers = [(b"host", b"127.0.0.1"), *headers]
    communicator = HttpCommunicator(app, method, path, body=body, headers=list(headers))
    response = await communicator.get_response(timeout=5)
    return response["status"], {k.decode().lower(): v.decode() for k, v in response["headers"]}, response["body"]


async def test_lean_view_answers_with_security_headers():
    status, headers, body = await call("GET", "/tracker/api/rooms")

    assert status == 200
    assert [room["name"] for room in json.loads(body)["rooms"]] == ["example", "hall-2"]
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
