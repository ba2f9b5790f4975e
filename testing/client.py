"""A test client that drives the site's real ASGI HTTP application.

Django's own test client calls the handler's middleware chain directly, so the
hot views marked @lean (common/lean.py) would never run the way daphne runs
them. These clients keep Django's convenience API (get/post with data and
content_type, headers=, cookies, force_login, session) and swap only what
answers: each request goes through `common.lean.http_application()`, as one
ASGI connection, the same application project/asgi.py gives daphne.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import client as django_client
from django.utils.crypto import get_random_string

from common.lean import http_application


async def call_application(scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One request through the application: its status, headers and body.

    The client stays connected until the response is complete (Django's handler
    listens for a disconnect meanwhile), and the application runs in a task of
    its own, as under daphne, so context variables it sets do not leak into the test.
    """
    application = http_application()  # built per request: middleware reads the test's settings
    done = asyncio.Event()
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    try:
        await asyncio.create_task(application(scope, receive, send))
    finally:
        done.set()
    assert start, "the application answered nothing"
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


def as_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> HttpResponse:
    response = HttpResponse(body, status=status)
    del response["Content-Type"]  # only what the application sent
    for name, value in headers:
        if name.lower() == b"set-cookie":
            response.cookies.load(value.decode("latin-1"))
        else:
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
    return response


class ASGIApplicationHandler:
    """Stands in for Django's AsyncClientHandler: same scope in, HttpResponse out."""

    def __init__(self, client: AsyncClient, enforce_csrf_checks: bool, address: str | None):
        self.client, self.enforce_csrf_checks, self.address = client, enforce_csrf_checks, address

    async def __call__(self, scope: dict[str, Any]) -> HttpResponse:
        if self.address is not None:
            scope["client"] = [self.address, 50000]
        body_file = scope.pop("_body_file", None)
        body = body_file.read() if body_file is not None else b""
        if not self.enforce_csrf_checks and scope["method"] not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            scope["headers"] = self.client.with_csrf_token(scope["headers"])
        # As Django's test client does: closing "old" connections would end the test's transaction.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            status, headers, content = await call_application(scope, body)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        response = as_response(status, headers, content)
        response.asgi_request = ASGIRequest(scope, io.BytesIO(body))
        return response


class AsyncClient(django_client.AsyncClient):
    """Django's AsyncClient, answered by the site's ASGI application.

    Unless enforce_csrf_checks, unsafe requests carry a CSRF cookie and the
    matching X-CSRFToken header, as a page's form would: CSRF still runs.
    `address` is the connection's (REMOTE_ADDR), 127.0.0.1 unless given.
    """

    def __init__(self, enforce_csrf_checks: bool = False, *, address: str | None = None, **kwargs: Any):
        super().__init__(enforce_csrf_checks=enforce_csrf_checks, **kwargs)
        self.handler = ASGIApplicationHandler(self, enforce_csrf_checks, address)

    def with_csrf_token(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The request's headers with a CSRF cookie (made up once, kept) and the matching X-CSRFToken."""
        if settings.CSRF_COOKIE_NAME not in self.cookies:
            self.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        token = self.cookies[settings.CSRF_COOKIE_NAME].value
        cookie = "; ".join(sorted(f"{morsel.key}={morsel.coded_value}" for morsel in self.cookies.values()))
        # The cookie header _base_scope wrote may predate the token: written again, whole.
        kept = [(name, value) for name, value in headers if name != b"cookie"]
        return [*kept, (b"cookie", cookie.encode()), (b"x-csrftoken", token.encode())]


class Client:
    """The same client for synchronous tests: each request runs the application to completion."""

    def __init__(self, **kwargs: Any):
        self.async_client = AsyncClient(**kwargs)

    def __getattr__(self, name: str) -> Any:
        # cookies, session, force_login, login, logout: Django's ClientMixin, synchronous already.
        return getattr(self.async_client, name)

    def _sync(self, method: str) -> Callable[..., HttpResponse]:
        return async_to_sync(getattr(self.async_client, method))

    def get(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._sync("get")(*args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._sync("post")(*args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._sync("put")(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._sync("delete")(*args, **kwargs)

    def request(self, **request: Any) -> HttpResponse:
        return self._sync("request")(**request)
