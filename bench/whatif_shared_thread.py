"""What-if ASGI app for `python -m bench --asgi bench.whatif_shared_thread:application`.

The site's own application with all its middleware, except that Django's
ASGIHandler does not open a ThreadSensitiveContext per request: its sync
work (middleware, signals, response.close) then runs on one long-lived
thread instead of a thread created and joined for every request. Measures
how much of a request's cost is that thread's creation.
"""

from __future__ import annotations

from django.core.handlers.asgi import ASGIHandler

from project.asgi import application


class SharedThreadHandler(ASGIHandler):
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)


application.application_mapping["http"] = SharedThreadHandler()
