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

What a lean view may not do is checked: @lean refuses a view that is not
async when the module is imported, and `lean_view_running()` names the lean
view the current code runs for, so the tests' database guard (conftest.py)
fails any test in which a lean view runs SQL outside `database_on_purpose`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve

from .errors import error_response
from .logs import start_request

View = Callable[..., Any]
ASGIApp = Callable[..., Any]

# The lean view being served in this context (None on Django's path, or where
# a lean view reaches the database on purpose).
_running: ContextVar[str | None] = ContextVar("lean_view", default=None)


def lean(view: View) -> View:
    """Mark an async view that needs no database, session or CSRF middleware."""
    if not iscoroutinefunction(view):
        # Called on the event loop, a sync view would block every other request.
        raise TypeError(f"@lean needs an async view; {view.__module__}.{view.__qualname__} is not")
    view.lean = True  # type: ignore[attr-defined]  # a mark on the function, read by LeanApplication
    return view


def lean_view_running() -> str | None:
    """The name of the lean view the calling code runs for, if any."""
    return _running.get()


@contextlib.contextmanager
def database_on_purpose() -> Iterator[None]:
    """Around the rare database read a lean view makes by design (say so at the call)."""
    token = _running.set(None)
    try:
        yield
    finally:
        _running.reset(token)


def any_host(view: View) -> View:
    """Mark a lean view that answers whatever Host it is asked by (load balancers' health checks)."""
    view.any_host = True  # type: ignore[attr-defined]
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
            running = _running.set(f"{func.__module__}.{func.__qualname__}")
            try:
                response = await func(request, *args, **kwargs)
            finally:
                _running.reset(running)
        except Exception as exc:  # the same answers the middleware gives elsewhere
            response = error_response(request, exc)
        response = self.xframe.process_response(request, self.security.process_response(request, response))
        response["X-Request-ID"] = current
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


def http_application() -> ASGIApp:
    """What answers HTTP: Django behind the lean path, static files in front
    when SERVE_STATIC. Daphne serves it (project/asgi.py); the tests' client drives it."""
    application: ASGIApp = LeanApplication(get_asgi_application())
    if settings.SERVE_STATIC:
        application = ASGIStaticFilesHandler(application)
    return application
