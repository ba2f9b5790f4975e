"""ASGI entry point: HTTP through Django, websockets through Channels.

The rooms config is checked here, before daphne accepts a connection, so a
broken config stops start-up with one line instead of failing requests; the
open-file limit (sockets per process) is raised and logged here too.
"""

import gc
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from common.capacity import log_capacity  # noqa: E402
from common.collector import freeze_quiet_survivors  # noqa: E402
from common.daphne_http import skip_form_parsing  # noqa: E402
from common.daphne_sweeps import sweep_less_often  # noqa: E402
from common.lean import http_application  # noqa: E402
from tracker.config import ConfigError, get_config  # noqa: E402
from tracker.live.config_reload import follow_orders_in_background, reload_on_sighup  # noqa: E402
from tracker.live.daphne_sockets import probe as probe_daphne_internals  # noqa: E402
from tracker.ops.setup_checks import static_problems  # noqa: E402
from tracker.ops.site_health import StampsIntake  # noqa: E402
from tracker.routing import websocket_application  # noqa: E402

if not settings.DEVELOPMENT and settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
    sys.exit("settings error: set SECRET_KEY in the environment (or DEBUG=1 for development)")
if "tracker" in settings.SITE_PARTS:
    try:
        get_config()
    except ConfigError as exc:
        sys.exit(f"config error: {exc}")
    # Rooms change without a restart: on SIGHUP, and on orders followed from
    # start-up (not from the first socket), so every process hears them.
    reload_on_sighup()
    follow_orders_in_background("web")
# Without collectstatic every page would answer 500 ("Missing staticfiles manifest entry").
if problems := static_problems():
    sys.exit(f"settings error: {problems[0]}")

log_capacity()
skip_form_parsing()
sweep_less_often()
probe_daphne_internals()  # one log line: whether live sockets write to daphne directly

protocols = {"http": http_application()}
if "tracker" in settings.SITE_PARTS:  # the live sockets are the tracker's
    protocols["websocket"] = websocket_application
application = ProtocolTypeRouter(protocols)
if "tracker" in settings.SITE_PARTS:  # the worker judges encoders only while some process takes heartbeats
    application = StampsIntake(application)

# Everything imported so far (Django, Twisted, the site's modules: ~100,000
# objects) lives as long as the process. Frozen, the collector's full passes,
# which ran every ~10 s under load, stop walking it: each stopped every
# request and socket of the process for 0.2-0.6 s on a loaded machine
# (bench/pause_probe.py, docs/performance.md).
gc.freeze()
# And so do the viewers' sockets, once a full pass found nothing to free among
# them (common/collector.py).
freeze_quiet_survivors()
