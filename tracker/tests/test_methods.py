"""Every page and API read: HEAD where GET is allowed, 405 for unsafe methods."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# The views that take writes (each checks its own methods), and the admin (Django's).
WRITES = {"heartbeat", "legacy-register", "login", "logout"}
# Pages with a form that posts to themselves: GET, HEAD and POST.
FORMS = {"maintenance"}


def readable_paths() -> list[tuple[str, bool]]:
    """Every URL of the site but the writing ones, with "example" for a room's name, and whether it is a form."""
    paths = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if "admin" not in route:
                    walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name not in WRITES:
                paths.append(("/" + re.sub(r"<str:\w+>", "example", route), pattern.name in FORMS))

    walk(get_resolver().url_patterns, "")
    return paths


def test_the_walk_finds_pages_and_api_reads():
    paths = [path for path, _ in readable_paths()]
    assert {"/healthz", "/readyz", "/", "/example", "/tracker/api/rooms", "/tracker/dashboard/"} <= set(paths)


@pytest.mark.parametrize(("path", "form"), readable_paths())
async def test_head_is_answered_and_unsafe_methods_are_405(async_client, path, form):
    head = await async_client.head(path)
    post = await async_client.post(path)
    delete = await async_client.delete(path)

    assert head.status_code != 405  # (daphne, on twisted.web, sends a HEAD's headers only)
    assert delete.status_code == 405
    assert form or post.status_code == 405
