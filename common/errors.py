"""Last line of defence: no traceback ever reaches a client, DEBUG or not."""

from __future__ import annotations

import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


# Exceptions that mean the request was wrong, not the server: (status, error).
CLIENT_ERRORS: tuple[tuple[type[Exception], int, str], ...] = (
    (Http404, 404, "not_found"),
    (PermissionDenied, 403, "forbidden"),
    (SuspiciousOperation, 400, "bad_request"),  # e.g. a Host header not in ALLOWED_HOSTS
    (BadRequest, 400, "bad_request"),
    (MultiPartParserError, 400, "bad_request"),  # a form body that does not parse
)


def client_error(exception: Exception) -> tuple[int, str] | None:
    for kind, status, error in CLIENT_ERRORS:
        if isinstance(exception, kind):
            return status, error
    return None


def error_response(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A short answer for an error: JSON under /tracker/, text elsewhere; never a traceback.

    Redis being unreachable is the one expected server failure: it becomes a
    503 so encoders retry and load balancers look elsewhere.
    """
    if found := client_error(exception):
        logger.info("refused %s %s: %s", request.method, request.path, type(exception).__name__)
        status, error = found
        message = error.replace("_", " ")
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

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if client_error(exception):
            return None  # Django's own 404/403/400 handling applies
        return error_response(request, exception)
