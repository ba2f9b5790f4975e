"""How often one client (an IPv4 address, an IPv6 /64) may be refused encoders' requests, whatever tokens it tries.

Each token has its own heartbeat rate (tracker.encoders.ingest); a client
trying tokens it made up, or posting legacy forms with guessed secrets, is
counted by its refusals, in Redis so that every web process counts the same.
Past the limit it is refused at the door (429, 4429) until the window ends.
Accepted requests cost nothing here: a whole venue's encoders behind one
address reconnect at once after a restart.
"""

from __future__ import annotations

import contextlib

from redis.asyncio import Redis
from redis.exceptions import RedisError

from common.addresses import client_key
from tracker.encoders import store

# Refusals allowed per client per window, by kind of request.
REFUSALS = {"heartbeat": 50, "legacy": 20, "encoder-socket": 20}
WINDOW_SECONDS = 10


def counter(kind: str, address: str) -> str:
    return store.key("rate", "refused", kind, client_key(address))


async def exhausted(redis: Redis, kind: str, address: str) -> bool:
    """Whether this client was refused too often lately to be heard at all.

    Raises RedisError with Redis away: what follows needs Redis anyway, and the
    caller answers "try again" at once rather than after a second timeout."""
    return int(await redis.get(counter(kind, address)) or 0) >= REFUSALS[kind]


async def count_refusal(redis: Redis, kind: str, address: str) -> None:
    key = counter(kind, address)
    with contextlib.suppress(RedisError, OSError):  # a refusal not counted is no reason to answer otherwise
        # The window starts with the first refusal: SET NX with its expiry, then INCR,
        # which keeps it (EXPIRE's NX flag would say the same but needs Redis 7,
        # and in a pipeline its error would leave a counter that never expires).
        async with redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
            await pipe.execute()
