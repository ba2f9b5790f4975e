"""What-if settings for `python -m bench --django-settings bench.whatif_lean_middleware`.

The project's settings without Django's sync-only middleware (each one costs
two thread hops per request under ASGI), to measure what they cost. Not a
proposal to ship as is: the admin needs sessions, auth, messages and CSRF.
"""

from project.settings import *  # noqa: F403
from project.settings import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if m.startswith("tracker.")]
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
