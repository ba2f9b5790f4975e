"""Encoder identities and their tokens.

The database is the record of who may send heartbeats; Redis holds a copy
keyed by token hash so a heartbeat is checked without touching the
database. A token missing from Redis (say, after a Redis restart) is looked
up in the database once and copied back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from redis.asyncio import Redis

from common.lean import database_on_purpose
from tracker import socket_orders
from tracker.config import get_config
from tracker.encoders import store
from tracker.encoders.heartbeat import ENCODER_NAME
from tracker.encoders.state_machine import Identity
from tracker.models import Encoder, Role

T = TypeVar("T")


class IdentityError(ValueError):
    """A request to add or revoke an encoder that can't be done, for a person."""


# A field no token hashes to, present whenever the copy was loaded.
LOADED_MARK = "-"
# Longer than any copy from the database takes.
REVOKED_MEMORY_SECONDS = 600

COPY_TOKENS_LUA = store.load_script("copy_tokens")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def identity_of(encoder: Encoder) -> Identity:
    return Identity(name=encoder.name, room=encoder.room, role=encoder.role, grace=encoder.grace or get_config().grace)


def run_with_redis(operation: Callable[[Redis], Awaitable[T]]) -> T:
    """Run a Redis operation from synchronous code (commands, admin)."""

    async def run() -> T:
        redis = store.connect()
        try:
            return await operation(redis)
        finally:
            await redis.aclose()

    return async_to_sync(run)()


async def publish_identity(redis: Redis, encoder: Encoder) -> None:
    await redis.hset(store.key("tokens"), encoder.token_hash, identity_of(encoder).to_json())


async def forget_identity(redis: Redis, encoder: Encoder) -> None:
    """Drop the token and close the encoder's socket, in whichever web process holds it."""
    # Marked revoked first: a copy from the database that read the row
    # before it was deleted must not write the token back (COPY_TOKENS_LUA).
    await redis.set(store.key("revoked", encoder.token_hash), 1, ex=REVOKED_MEMORY_SECONDS)
    await redis.hdel(store.key("tokens"), encoder.token_hash)
    await socket_orders.token_revoked(encoder.name)


async def find_identity(redis: Redis, token: str) -> Identity | None:
    """The identity a token stands for, or None if it is not (or no longer) valid."""
    token_hash = hash_token(token)
    text = await redis.hget(store.key("tokens"), token_hash)
    return read_identity(token_hash, text) if text else await identity_after_miss(redis, token_hash)


def read_identity(token_hash: str, text: str) -> Identity | None:
    """A token copy's identity; an unreadable one is a token not accepted (and logged), never a 500."""
    return store.readable(store.key("tokens", token_hash[:12]), text, Identity.from_json)


async def identity_after_miss(redis: Redis, token_hash: str) -> Identity | None:
    """A token Redis does not know: unknown, unless Redis lost every token.

    Only then is the database asked, and the whole copy restored at once, so
    a flood of made-up tokens never reaches the database.
    """
    if await redis.exists(store.key("tokens")):
        return None
    # The one database read on the lean heartbeat path, on purpose: once, after Redis lost every token.
    with database_on_purpose():
        await copy_identities_to_redis(redis)
    text = await redis.hget(store.key("tokens"), token_hash)
    return read_identity(token_hash, text) if text else None


def validate_new_encoder(*, room: str, name: str, role: str) -> None:
    if room not in get_config().rooms:
        raise IdentityError(f"no room named {room!r} in the config")
    if not ENCODER_NAME.match(name):
        raise IdentityError("encoder names are 1-64 letters, digits, '.', '_' or '-'")
    if role not in Role.values:
        raise IdentityError(f"role must be one of {', '.join(Role.values)}")
    if Encoder.objects.filter(name=name).exists():
        raise IdentityError(f"an encoder named {name!r} exists already")


def add_encoder(*, room: str, name: str, role: str = Role.ENCODER, grace: int | None = None) -> tuple[Encoder, str]:
    """Create an encoder; returns it with its token, which is not stored anywhere."""
    validate_new_encoder(room=room, name=name, role=role)
    token = secrets.token_urlsafe(32)
    encoder = Encoder.objects.create(room=room, name=name, role=role, grace=grace, token_hash=hash_token(token))
    run_with_redis(lambda redis: publish_identity(redis, encoder))
    return encoder, token


def revoke_encoder(name: str) -> None:
    """Delete an encoder's identity; its token stops working at once."""
    encoder = Encoder.objects.filter(name=name).first()
    if encoder is None:
        raise IdentityError(f"no encoder named {name!r}")
    # Forget in Redis on both sides of the delete, so a copy from the database
    # running meanwhile cannot bring the token back.
    run_with_redis(lambda redis: forget_identity(redis, encoder))
    encoder.delete()

    async def forget_all(redis: Redis) -> None:
        await forget_identity(redis, encoder)
        await store.remove_encoder(redis, encoder.room, encoder.name)  # off the dashboard too

    run_with_redis(forget_all)


async def copy_identities_to_redis(redis: Redis) -> int:
    """Make Redis's token copy match the database (worker start-up, Redis lost)."""
    # Channels' wrapper closes stale connections around the query, as Django's
    # request signals would (lean views and consumers get no such signals).
    encoders = await database_sync_to_async(lambda: list(Encoder.objects.all()))()
    identities = {e.token_hash: identity_of(e).to_json() for e in encoders}
    identities[LOADED_MARK] = "loaded"  # the copy exists, even with no encoders in it
    pairs = [item for pair in identities.items() for item in pair]
    await COPY_TOKENS_LUA(keys=[store.key("tokens")], args=[store.key("revoked", ""), *pairs], client=redis)
    return len(encoders)
