"""A lean path through Django for hot, public, stateless views.

Django's ASGI handler runs each request in its own thread-sensitive context,
sends request_started/finished signals to sync receivers and passes every
middleware, each hop to a thread costing more than the view itself:
`make bench` measured about 5 ms of CPU per heartbeat, of which the view was
under 1 ms. Views marked @lean never touch the database, sessions or CSRF,
so this application calls them directly on the event loop, and applies only
what public responses need: the ALLOWED_HOSTS check, the error answers of
common.errors and the security headers of Django's own SecurityMiddleware
and XFrameOptionsMiddleware (the HTTPS redirect is the proxy's job:
ops/nginx). Everything else goes through Django as usual.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve

from .errors import error_response
from .logs import start_request

View = Callable[..., Any]


def lean(view: View) -> View:
    """Mark an async view that needs no database, session or CSRF middleware."""
    view.lean = True
    return view


def any_host(view: View) -> View:
    """Mark a lean view that answers whatever Host it is asked by (load balancers' health checks)."""
    view.any_host = True
    return view


async def read_body(receive: Callable[[], Any], limit: int) -> bytes | None:
    """The request body, cut one byte past `limit` (views refuse what is bigger);
    None when the client went away."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        if len(body) <= limit:
            body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body[: limit + 1])


def allow_cross_origin(request: ASGIRequest, response: HttpResponse) -> None:
    """Let pages of TRACKER_ALLOWED_ORIGINS (the frontend on another machine)
    read public GET answers; nothing else is opened."""
    origin = request.headers.get("Origin", "")
    if request.method == "GET" and origin in settings.TRACKER_ALLOWED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"


class LeanApplication:
    def __init__(self, django_application: Callable[..., Any]):
        self.django_application = django_application
        # Only their process_response is used: pure header logic, no I/O.
        self.security = SecurityMiddleware(lambda request: None)
        self.xframe = XFrameOptionsMiddleware(lambda request: None)

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        view = self.lean_view(scope)
        if view is None:
            await self.django_application(scope, receive, send)
            return
        func, args, kwargs = view
        body = await read_body(receive, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if body is None:
            return
        request = ASGIRequest(scope, io.BytesIO(body))
        current = start_request(request.headers)
        try:
            if not getattr(func, "any_host", False):
                request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks on Django's path
            response = await func(request, *args, **kwargs)
        except Exception as exc:  # the same answers the middleware gives elsewhere
            response = error_response(request, exc)
        response = self.xframe.process_response(request, self.security.process_response(request, response))
        response["X-Request-ID"] = current
        allow_cross_origin(request, response)
        await self.respond(response, send)

    @staticmethod
    def lean_view(scope: dict[str, Any]) -> tuple[View, tuple, dict] | None:
        if scope["type"] != "http":
            return None
        try:
            match = resolve(scope["path"])
        except Resolver404:
            return None
        return (match.func, match.args, match.kwargs) if getattr(match.func, "lean", False) else None

    @staticmethod
    async def respond(response: HttpResponse, send: Callable[..., Any]) -> None:
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
        headers += [
            (b"set-cookie", cookie.output(header="").strip().encode("latin-1")) for cookie in response.cookies.values()
        ]
        headers.append((b"content-length", str(len(response.content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})
