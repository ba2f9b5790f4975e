"""Prepare a site for the bench, inside Django: write the rooms config, migrate
the bench's own SQLite file, and give every bench encoder a token.

Run by the harness as `python -m bench.provision CONFIG_DIR ENCODERS_JSON`
with the cluster's environment; prints {"tokens": {"encoder name": token},
"operator_session": session key} as JSON.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sys
from pathlib import Path


def main(config_dir: Path, encoders: list[list[str]], rooms: list[str]) -> dict[str, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from tracker import config as config_module

    secret = "bench-" + secrets.token_hex(16)
    global_settings = {"secret": secret, "grace": 5}
    defaults = getattr(config_module, "GLOBAL_DEFAULTS", {})
    if "heartbeat-rate" in defaults:
        # The load generator sends far more than an encoder would; the
        # rate limit (a cheap INCR in the same pipeline) stays on the path.
        high = getattr(config_module, "GLOBAL_RANGES", {}).get("heartbeat-rate", (1, 1000))[1]
        global_settings["heartbeat-rate"] = high
    for name in ("viewer-sockets-per-address", "viewer-tabs-per-address"):
        if name in defaults:  # every simulated viewer comes from loopback
            global_settings[name] = getattr(config_module, "GLOBAL_RANGES", {})[name][1]
    main_config = {
        "config": {k: v for k, v in global_settings.items() if k != "secret"},
        "default": {"title": "", "legacy-stream-url": "http://{address}/{room}/{format}_{quality}.{ext}"},
        **{name: {"title": name.replace("-", " ").title()} for name in rooms},
    }
    (config_dir / "config.json").write_text(json.dumps(main_config, indent=2))
    (config_dir / "config.private.json").write_text(json.dumps({"config": {"secret": secret}}))
    if hasattr(config_module, "reset_cache"):
        config_module.reset_cache()
    config_module.get_config()  # fails loudly on a config the tracker refuses

    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0, stdout=io.StringIO())
    from tracker.encoders.identities import add_encoder

    tokens = {name: add_encoder(room=room, name=name)[1] for room, name in encoders}
    return {"tokens": tokens, "operator_session": operator_session()}


def operator_session() -> str:
    """A logged-in operator's session key, for the dashboard's socket."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.create_user("bench-operator", password=secrets.token_hex(16), is_staff=True)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


if __name__ == "__main__":
    rooms_arg = json.loads(sys.argv[3])
    print(json.dumps(main(Path(sys.argv[1]), json.loads(sys.argv[2]), rooms_arg)))
