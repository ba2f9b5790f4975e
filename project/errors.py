"""Last line of defence: no traceback ever reaches a client, DEBUG or not."""

from __future__ import annotations

import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def error_response(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A short answer for an unexpected error: JSON under /tracker/, text elsewhere.

    Redis being unreachable is the one expected failure: it becomes a 503 so
    encoders retry and load balancers look elsewhere.
    """
    if isinstance(exception, SuspiciousOperation):  # e.g. a Host header not in ALLOWED_HOSTS
        logger.warning("refused %s %s: %s", request.method, request.path, exception)
        status, error, message = 400, "bad_request", "bad request"
    elif isinstance(exception, RedisError):
        logger.warning("redis unavailable during %s %s: %s", request.method, request.path, exception)
        status, error, message = 503, "unavailable", "live state store unreachable, retry shortly"
    else:
        logger.exception("unhandled error during %s %s", request.method, request.path, exc_info=exception)
        status, error, message = 500, "internal", "internal server error"
    if request.path.startswith("/tracker/"):
        return JsonResponse({"error": error, "message": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class json_errors_for_api:  # noqa: N801 - named like the function middlewares it sits beside
    """Middleware answering unexpected errors with error_response, DEBUG or not."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        return error_response(request, exception)
