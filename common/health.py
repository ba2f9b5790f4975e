"""Health checks for load balancers: /healthz (the process answers) and
/readyz (it can do its work).

What "can do its work" means belongs to each app, so each registers its own
check from its AppConfig.ready() (`add_readiness_check`): the tracker's needs
its config and Redis, a frontend alone needs its tracker. A check returns
`problems` (the process is unready: 503) and `warnings` (worth an operator's
look, still ready), each a dict of short strings.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from .lean import any_host, lean

Findings = dict[str, str]
ReadinessCheck = Callable[[], Awaitable[tuple[Findings, Findings]]]

_checks: list[ReadinessCheck] = []


def add_readiness_check(check: ReadinessCheck) -> None:
    if check not in _checks:
        _checks.append(check)


@any_host
@lean
@require_safe
async def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@any_host
@lean
@require_safe
async def readyz(request: HttpRequest) -> JsonResponse:
    problems: Findings = {}
    warnings: Findings = {}
    for check in _checks:
        found_problems, found_warnings = await check()
        problems.update(found_problems)
        warnings.update(found_warnings)
    body = {"ok": not problems, **problems, **({"warnings": warnings} if warnings else {})}
    return JsonResponse(body, status=503 if problems else 200)
