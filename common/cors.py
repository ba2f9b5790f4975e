"""Cross-origin reads of the public GET API, for one view at a time.

A decorator rather than middleware, so a view answers the same on the lean
path and on Django's, and only the views marked are opened: the frontend on
another machine (TRACKER_ALLOWED_ORIGINS) may read them; no other origin,
and no other method, ever gets the header.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from .errors import error_response

View = Callable[..., Any]


def allow_origin(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if request.method == "GET" and origin in settings.TRACKER_ALLOWED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
    # Whether or not this origin was allowed: a cache must not hand one origin's answer to another.
    patch_vary_headers(response, ["Origin"])
    return response


def cross_origin(view: View) -> View:
    """Let TRACKER_ALLOWED_ORIGINS read this view's GET answers (async or sync view alike)."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                response = await view(request, *args, **kwargs)
            except Exception as exc:  # the other origin must be able to read the error too (a 503: retry)
                response = error_response(request, exc)
            return allow_origin(request, response)

        return async_wrapper

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Exception as exc:
            response = error_response(request, exc)
        return allow_origin(request, response)

    return wrapper
