"""Operator accounts: ended sessions close their sockets, and logins are throttled.

An open /ws/ops/ socket was authenticated once, when it connected. Logging
out, being deactivated, losing staff status or having the password changed
must end it at once, in whichever web process holds it: a per-user order on
the control plane (tracker.socket_orders) closes them.

Logins (the operators' form and the admin's) are throttled so that they
stop attackers without locking owners out: failures are counted per (client,
username) and per client (an IPv4 address or an IPv6 /64), never per
username alone, so nobody elsewhere can lock an account by failing on
purpose. Past a few failures each further failure doubles the wait before
the next try from there. A correct password from a client without recent
failures always gets in. `manage.py clear_login_throttle` clears a wait
(for an address, a username, or all). The counters live in Redis rather
than in django-axes: the site keeps its short-lived counters there already,
and axes would add tables, a middleware and an authentication backend for
what these few lines do.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import redis
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from redis.exceptions import RedisError

from common.addresses import client_key, request_address
from tracker import socket_orders
from tracker.encoders import store

logger = logging.getLogger(__name__)

# Failures allowed before waits start, per (client, username) and per client;
# then each failure doubles the wait, from FIRST_WAIT up to LONGEST_WAIT.
FAILURES_PER_USERNAME = 5
FAILURES_PER_ADDRESS = 20
FIRST_WAIT_SECONDS = 30
LONGEST_WAIT_SECONDS = 15 * 60
# Failures are forgotten this long after the last one.
WINDOW_SECONDS = 60 * 60
# What about an account ends its operator sockets when it changes.
SESSION_FIELDS = ("password", "is_active", "is_staff")


def sync_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)


def end_operator_sockets(user_id: Any) -> None:
    """Close this user's operator sockets in every web process (with Redis away: logged, not sent)."""
    socket_orders.session_ended(user_id)


def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        end_operator_sockets(user.pk)


def remember_session_fields(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk is not None:
        instance._session_fields = sender.objects.filter(pk=instance.pk).values_list(*SESSION_FIELDS).first()


def account_changed(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_session_fields", None)
    if not created and before != tuple(getattr(instance, name) for name in SESSION_FIELDS):
        end_operator_sockets(instance.pk)


def connect_signals() -> None:
    user_model = get_user_model()
    user_logged_out.connect(logged_out, dispatch_uid="tracker-operator-logout")
    pre_save.connect(remember_session_fields, sender=user_model, dispatch_uid="tracker-operator-before")
    post_save.connect(account_changed, sender=user_model, dispatch_uid="tracker-operator-after")


def username_hash(username: str) -> str:
    # Hashed: whatever a client types must not become a key name.
    return hashlib.sha256(username.casefold().encode("utf-8", "surrogatepass")).hexdigest()


def throttle_keys(address: str, username: str) -> list[tuple[str, int]]:
    """The counters a login from `address` for `username` is held to, with their allowed failures."""
    client = client_key(address)
    return [
        (store.key("login", "pair", client, username_hash(username)), FAILURES_PER_USERNAME),
        (store.key("login", "address", client), FAILURES_PER_ADDRESS),
    ]


def wait_seconds(failures: int, allowed: int) -> float:
    """How long after the last failure the next try must wait."""
    if failures < allowed:
        return 0
    return float(min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** min(failures - allowed, 16)))


def waiting(client: redis.Redis, keys: list[tuple[str, int]], *, now: float) -> float:
    """Seconds until a login may be tried again (0: now)."""
    with client.pipeline(transaction=False) as pipe:
        for key, _ in keys:
            pipe.hmget(key, "failures", "last")
        counters = pipe.execute()
    waits = [
        float(last) + wait_seconds(int(failures), allowed) - now
        for (_, allowed), (failures, last) in zip(keys, counters, strict=True)
        if failures and last
    ]
    return max([0.0, *waits])


def count_failure(client: redis.Redis, keys: list[tuple[str, int]], *, now: float) -> None:
    with client.pipeline(transaction=False) as pipe:
        for key, _ in keys:
            pipe.hincrby(key, "failures", 1)
            pipe.hset(key, "last", now)
            pipe.expire(key, WINDOW_SECONDS)  # from the last failure
        pipe.execute()


def clear_throttles(client: redis.Redis, *, address: str | None = None, username: str | None = None) -> int:
    """Forget failures: an address's (all its usernames too), a username's (from every address), or all."""
    patterns = []
    if address is not None:
        client_id = client_key(address)
        patterns += [store.key("login", "address", client_id), store.key("login", "pair", client_id, "*")]
    if username is not None:
        patterns.append(store.key("login", "pair", "*", username_hash(username)))
    if address is None and username is None:
        patterns.append(store.key("login", "*"))
    keys = {key for pattern in patterns for key in client.scan_iter(match=pattern, count=1000)}
    return client.delete(*keys) if keys else 0


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing to try while this client must wait after failing too often."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed logins from here: try again in %(wait)s.",
    }

    def clean(self) -> dict[str, Any]:
        keys = throttle_keys(request_address(self.request), self.data.get("username", ""))
        now = time.time()
        try:
            with sync_redis() as client:
                wait = waiting(client, keys, now=now)
                if wait > 0:
                    logger.info("login refused: throttled for %.0f s more", wait)
                    minutes, seconds = divmod(int(wait) + 1, 60)
                    text = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
                    raise forms.ValidationError(
                        self.error_messages["throttled"], code="throttled", params={"wait": text}
                    )
                try:
                    return super().clean()
                except forms.ValidationError:
                    count_failure(client, keys, now=now)
                    raise
        except RedisError as exc:  # no counters without Redis: logins go on unthrottled rather than not at all
            logger.warning("login throttle unavailable: %s", exc)
            return super().clean()
