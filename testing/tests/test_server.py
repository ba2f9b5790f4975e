"""testing/server.py: the site's ASGI application on a port of this process."""

from __future__ import annotations

import urllib.request

from testing.server import serving


def test_pages_and_static_files_are_answered_by_the_application(settings):
    settings.SERVE_STATIC = True
    with serving() as url:
        health = urllib.request.urlopen(url + "/healthz", timeout=5)
        style = urllib.request.urlopen(url + "/static/frontend/site.css", timeout=5)

    assert health.status == 200 and health.headers["X-Request-ID"]  # what the lean path adds
    assert style.status == 200 and b"{" in style.read()
