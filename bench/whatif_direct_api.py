"""What-if ASGI app for `python -m bench --asgi bench.whatif_direct_api:application`.

The site's own application, except that requests under /tracker/api/ go
straight to their (async) view: no ASGIHandler, so no per-request
ThreadSensitiveContext (a new thread per request), no sync middleware (two
thread hops each) and no request_started/finished signals (more hops). The
views are the product's, unchanged; this only measures the framework cost
around them. Not a proposal to ship as is (no middleware at all here).
"""

from __future__ import annotations

import io

from django.core.handlers.asgi import ASGIRequest
from django.urls import Resolver404, resolve

from project.asgi import application as site_application  # sets Django up

DIRECT_PREFIX = "/tracker/api/"


async def application(scope, receive, send):
    if scope["type"] != "http" or not scope["path"].startswith(DIRECT_PREFIX):
        return await site_application(scope, receive, send)
    try:
        match = resolve(scope["path"])
    except Resolver404:
        return await site_application(scope, receive, send)
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    request = ASGIRequest(scope, io.BytesIO(bytes(body)))
    response = await match.func(request, *match.args, **match.kwargs)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
    headers.append((b"content-length", str(len(response.content)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})
