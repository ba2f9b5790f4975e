"""Logs: one line per event, tagged with the request it belongs to.

A request id comes from the proxy's X-Request-ID header (nginx: $request_id)
or is made here; it is echoed in the response so a person reporting a
problem can quote it. Nothing here logs request bodies, headers or URLs'
query strings, where tokens and secrets travel.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# A proxy's id is used only if it looks like one: it ends up in every log line.
PROXY_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def start_request(headers: Mapping[str, str]) -> str:
    """Take or make this request's id and make it current for its logs."""
    given = headers.get("X-Request-ID", "")
    current = given if PROXY_ID.fullmatch(given) else uuid.uuid4().hex
    request_id.set(current)
    return current


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class ClientErrorFilter(logging.Filter):
    """A client's doing is one line, never a traceback.

    Django logs a refused request (403, 400, a bad Host header) with the
    exception that refused it; that traceback tells the operator nothing a
    line does not, and a client can make as many as it likes. Server errors
    (5xx, and whatever has no status) keep theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        client_error = isinstance(status, int) and 400 <= status < 500
        if record.exc_info and (client_error or record.name.startswith("django.security")):
            record.exc_info, record.exc_text = None, None
        return True


class LineFormatter(logging.Formatter):
    """One line per event: CR and LF in the message (a path, a header, a schedule's text) are escaped,
    so nobody can forge a log line. A traceback that follows keeps its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class request_id_middleware:  # noqa: N801 - named like a function middleware
    """Gives every request handled by Django an id (the lean path does the same)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        current = start_request(request.headers)
        if self.is_async:
            return self._acall(request, current)
        response = self.get_response(request)
        response["X-Request-ID"] = current
        return response

    async def _acall(self, request: HttpRequest, current: str) -> HttpResponse:
        response = await self.get_response(request)
        response["X-Request-ID"] = current
        return response
