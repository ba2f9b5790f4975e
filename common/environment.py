"""Settings from the environment that fail loudly: a value that means nothing
stops start-up with the variable named, and secrets may come from files.

`SECRET_KEY_FILE=/run/credentials/streaming.service/secret_key` (systemd's
LoadCredential, `%d/secret_key` in a unit) or a container's
`/run/secrets/...` instead of `SECRET_KEY=...`: the secret then stays out of
the process environment that `ps e`, crash reports and child processes see.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """On or off; unset or empty gives the default; anything else but 1/0, true/false, yes/no, on/off is refused."""
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={environ[name]!r} is neither on nor off: use one of {', '.join(sorted(TRUE | FALSE))}"
    )


def env_count(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    """A whole number of 1 or more; unset or empty gives the default; anything else is refused."""
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ImproperlyConfigured(f"{name}={environ[name]!r} is not a whole number of 1 or more")
    return int(value)


def env_list(name: str, default: str, environ: Mapping[str, str] = os.environ) -> list[str]:
    return [item.strip() for item in environ.get(name, default).split(",") if item.strip()]


def env_secret(name: str, default: str = "", environ: Mapping[str, str] = os.environ) -> str:
    """A secret from NAME, or from the file NAME_FILE names (its trailing newline dropped); never both."""
    value, path = environ.get(name, ""), environ.get(f"{name}_FILE", "")
    if not path:
        return value or default
    if value:
        raise ImproperlyConfigured(f"{name} and {name}_FILE are both set: keep one")
    try:
        secret = Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}_FILE={path}: {exc.strerror or exc}") from None
    if not secret:
        raise ImproperlyConfigured(f"{name}_FILE={path} is empty")
    return secret
