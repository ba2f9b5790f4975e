"""Operator accounts: ended sessions close their sockets, and logins are throttled.

An open /ws/ops/ socket was authenticated once, when it connected. Logging
out, being deactivated, losing staff status or having the password changed
must end it at once, in whichever web process holds it: a per-user order on
the control plane (tracker.socket_orders) closes them.

Logins (the operators' form and the admin's) are throttled per client
address and per username with two counters in Redis rather than with
django-axes: the site keeps its short-lived counters in Redis already, and
axes would add tables, a middleware and an authentication backend for what
these few lines do.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import redis
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from redis.exceptions import RedisError

from common.addresses import request_address
from tracker import socket_orders
from tracker.encoders import store

logger = logging.getLogger(__name__)

# Failed logins allowed per window, per address and per username; a success does not reset them.
FAILURES_PER_ADDRESS = 20
FAILURES_PER_USERNAME = 5
WINDOW_SECONDS = 15 * 60
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


def throttle_keys(address: str, username: str) -> list[tuple[str, int]]:
    # The username is hashed: whatever a client types must not become a key name.
    user_hash = hashlib.sha256(username.casefold().encode("utf-8", "surrogatepass")).hexdigest()
    return [
        (store.key("login", "address", address), FAILURES_PER_ADDRESS),
        (store.key("login", "user", user_hash), FAILURES_PER_USERNAME),
    ]


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing to try once an address or a username failed too often."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed logins from here or for this account: "
        f"try again in {WINDOW_SECONDS // 60} minutes.",
    }

    def clean(self) -> dict[str, Any]:
        keys = throttle_keys(request_address(self.request), self.data.get("username", ""))
        try:
            with sync_redis() as client:
                if any(int(client.get(key) or 0) >= limit for key, limit in keys):
                    raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
                try:
                    return super().clean()
                except forms.ValidationError:
                    with client.pipeline(transaction=False) as pipe:
                        for key, _ in keys:
                            pipe.incr(key)
                            pipe.expire(key, WINDOW_SECONDS)  # from the last failure
                        pipe.execute()
                    raise
        except RedisError as exc:  # no counters without Redis: logins go on unthrottled rather than not at all
            logger.warning("login throttle unavailable: %s", exc)
            return super().clean()
