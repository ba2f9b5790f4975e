"""Settings, read from environment variables with development defaults.

Production sets at least DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and REDIS_URL;
see ops/README.md. On/off values other than 1/0, true/false, yes/no, on/off
stop start-up; SECRET_KEY, DATABASE_URL and REDIS_URL may be read from the
file that NAME_FILE names instead (common/environment.py). With SITE_PARTS one machine can serve only the frontend
or only the tracker.
"""

import ipaddress
import os
import socket
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from common.environment import env_bool, env_count, env_list, env_secret

BASE_DIR = Path(__file__).resolve().parent.parent


# DEBUG=1 is for development: static files served, plain HTTP, a development
# secret. Django's debug pages (settings, paths, REDIS_URL) are for loopback
# only: listening on any other address (WEB_HOST, as the Procfile and
# `make serve ARGS=0.0.0.0:8080` pass it), DEBUG turns off and says so, and
# the development conveniences stay.
DEVELOPMENT = env_bool("DEBUG", False)
LISTEN_HOST = os.environ.get("WEB_HOST", "").strip("[]")


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


DEBUG = DEVELOPMENT and (not LISTEN_HOST or is_loopback_host(LISTEN_HOST))
if DEVELOPMENT and not DEBUG:
    print(
        f"DEBUG=1 turned off: the site listens on {LISTEN_HOST}, not on loopback, and Django's debug pages "
        "show settings to anyone who can reach it (static files, plain HTTP and the development secret stay)",
        file=sys.stderr,
    )

# The fallback is for development and tests only: project/asgi.py refuses to
# serve with it outside development, and `check --deploy` flags it.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only"
SECRET_KEY = env_secret("SECRET_KEY", DEVELOPMENT_SECRET_KEY)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

# Which halves this process serves: "frontend,tracker" (default), or one of
# them when the frontend and the tracker run on separate machines.
SITE_PARTS = set(env_list("SITE_PARTS", "frontend,tracker"))
if not SITE_PARTS or not {"frontend", "tracker"} >= SITE_PARTS:
    raise ImproperlyConfigured("SITE_PARTS: a comma-separated choice of frontend and tracker")

# Browser origins, besides this site's own, that may use the tracker's public
# API and live socket: the frontend's origin when it runs elsewhere, e.g.
# https://stream.example.org.
TRACKER_ALLOWED_ORIGINS = [origin.rstrip("/") for origin in env_list("TRACKER_ALLOWED_ORIGINS", "")]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "common",
    "tracker",
    "frontend",
]

# daphne's app only replaces `runserver` (with daphne, websockets included);
# installed for every command it would import Twisted into the worker and
# each management command (0.3 s of CPU each). The site runs on daphne itself.
if sys.argv[1:2] == ["runserver"]:
    INSTALLED_APPS.insert(0, "daphne")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.logs.request_id_middleware",
    "common.errors.json_errors_for_api",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    """The few DATABASE_URL forms we support, without another dependency."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            # sqlite:///relative/path or sqlite:////absolute/path, as elsewhere.
            "NAME": unquote(url.removeprefix("sqlite:///")),
        }
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
    raise ImproperlyConfigured(f"DATABASE_URL: unsupported scheme {parts.scheme!r} (use sqlite:/// or postgres://)")


DATABASE_URL = env_secret("DATABASE_URL")  # or DATABASE_URL_FILE: it may hold a password
DATABASES = {
    "default": database_from_url(DATABASE_URL)
    if DATABASE_URL
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGIN_URL = "/tracker/login/"
LOGIN_REDIRECT_URL = "/tracker/dashboard/"
LOGOUT_REDIRECT_URL = "/tracker/login/"

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Production serves static files with nginx; development lets daphne do it.
SERVE_STATIC = env_bool("SERVE_STATIC", DEVELOPMENT)
if not SERVE_STATIC:
    # Hashed names (app.3f2a1b.js) that nginx may cache for a year.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "common.static_files.ModuleManifestStaticFilesStorage"},
    }

# Behind the TLS-terminating proxy of ops/nginx (which also redirects to HTTPS).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEVELOPMENT)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEVELOPMENT)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEVELOPMENT else str(365 * 24 * 3600)))
# Subdomains and preload lists are the domain owner's decision, not ours.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

# Heartbeat bodies are small; anything bigger is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

REDIS_URL = env_secret("REDIS_URL", "redis://127.0.0.1:6390/0")  # or REDIS_URL_FILE: it may hold a password
# With Redis Sentinel: the sentinels ("host:port,host:port") and the name of
# the master they watch; REDIS_URL then only gives the database, password and
# options, its host is not used.
REDIS_SENTINELS = env_list("REDIS_SENTINELS", "")
REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "mymaster")
# Keys and the live channel are prefixed so several sites can share a Redis.
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "streaming")

# The Channels layer carries the control plane: orders for particular sockets
# (tracker/socket_orders.py; docs/architecture.md says why the live feeds do
# not use it). The pub/sub layer: bench/control_plane.py measured it faster
# than the core layer, and its consumers outlive a Redis outage. redis-py's
# defaults are not kept: commands time out after 2 s instead of hanging on a
# stuck Redis; a pooled connection found dead (Redis restarted) is
# reconnected and the command sent once more, or the first order after an
# outage is lost (bench/control_plane.py). A Redis whose host went off or
# whose link was cut closes nothing: channels-redis sends its health-check
# PING but never waits for the answer, so its subscription would sit quiet on
# the lost primary until TCP gives up, about 15 minutes, and every order
# meanwhile would be lost. So the subscription PINGs after a second's quiet,
# and a connection whose bytes the other side's TCP has not acknowledged
# within 3 s gives up (TCP_USER_TIMEOUT, Linux's; other systems go without):
# channels-redis then subscribes again, through the Sentinels to the new
# primary (tracker/tests/faults/test_layer_link_lost.py). A frozen Redis
# process still has its TCP acknowledged: that case is not covered.
CHANNEL_LAYER_CONNECTION = {
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "health_check_interval": 1,
    "socket_keepalive_options": ({socket.TCP_USER_TIMEOUT: 3000} if hasattr(socket, "TCP_USER_TIMEOUT") else None),
    "retry": Retry(NoBackoff(), 1),
    "retry_on_error": [RedisConnectionError],
}


def channel_layer_host(redis_url: str) -> dict[str, object]:
    """channels-redis's host entry: REDIS_URL, or the master of REDIS_SENTINELS."""
    if not REDIS_SENTINELS:
        return {"address": redis_url, **CHANNEL_LAYER_CONNECTION}
    url = urlsplit(redis_url)
    password = {"password": unquote(url.password)} if url.password else {}
    return {
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinels": [(host, int(port)) for host, _, port in (s.rpartition(":") for s in REDIS_SENTINELS)],
        "sentinel_kwargs": password or None,
        "db": int(url.path.strip("/") or 0),
        **password,
        **CHANNEL_LAYER_CONNECTION,
    }


CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [channel_layer_host(REDIS_URL)], "prefix": f"{REDIS_PREFIX}:layer:"},
    }
}

# Where config.json and config.private.json live.
ROOMS_CONFIG_DIR = Path(os.environ.get("ROOMS_CONFIG_DIR", BASE_DIR))

# The frontend reads the tracker in-process unless this points at another
# machine, e.g. https://tracker.example.org (no trailing slash).
TRACKER_URL = os.environ.get("TRACKER_URL", "")
if {"frontend"} == SITE_PARTS and not TRACKER_URL:
    raise ImproperlyConfigured("SITE_PARTS=frontend needs TRACKER_URL: the tracker it reads runs elsewhere")
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")

# The tracker's address as browsers see it, for the live socket; empty means
# the page's own origin.
TRACKER_PUBLIC_URL = os.environ.get("TRACKER_PUBLIC_URL", "")
# A player whose media still arrives keeps playing this long after the tracker
# says the room went offline (the page says "status unknown" meanwhile).
PLAYER_TRUST_MEDIA_SECONDS = float(os.environ.get("PLAYER_TRUST_MEDIA_SECONDS", "900"))

# Broadcasts written straight to daphne's sockets (tracker/live/daphne_sockets.py);
# 0 sends them through daphne's ASGI send, should a daphne or Twisted quirk show.
LIVE_DIRECT_WRITES = env_bool("LIVE_DIRECT_WRITES", True)
# daphne walks every connection each 1 s and 2 s; only every Nth of those
# rounds walks here (common/daphne_sweeps.py); 1 keeps daphne's own pace.
DAPHNE_SWEEP_EVERY = env_count("DAPHNE_SWEEP_EVERY", 5)

# Schedules are read this many seconds away from now: a rehearsal before the
# event can pretend it is day one, 10:00 (`manage.py schedule offset` helps).
SCHEDULE_OFFSET_SECONDS = float(os.environ.get("SCHEDULE_OFFSET_SECONDS", "0"))

# One line per event, with the request id where there is one; LOG_FORMAT=json
# for log collectors.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "common.logs.RequestIdFilter"},
        "client_errors": {"()": "common.logs.ClientErrorFilter"},
    },
    "formatters": {
        "line": {
            "()": "common.logs.LineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("LOG_FORMAT") == "json" else "line",
            "filters": ["request_id", "client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # Apprise says "Notifying 1 service(s)" at INFO for every alert; its failures are warnings.
        "apprise": {"level": "WARNING"},
    },
}
