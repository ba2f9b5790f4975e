"""Django system checks for setup mistakes (`manage.py check`; daphne runs the static one at start-up)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Warning, register

from tracker.config import ConfigError, get_config
from tracker.ops import setup_checks


@register("tracker")
def rooms_config(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warnings only: a config that does not parse already stops daphne and the worker
    with its one line, and must not stop `init_config` from writing the missing secret."""
    try:
        config = get_config()
    except ConfigError:
        return []
    return [Warning(problem, id="tracker.W001") for problem in setup_checks.config_problems(config)]


@register("staticfiles", deploy=True)
def collected_static_files(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return [Error(problem, id="tracker.E001") for problem in setup_checks.static_problems()]
