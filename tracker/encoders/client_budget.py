"""What one client (an IPv4 address, an IPv6 /64) may send of encoders' messages, whatever tokens it holds.

Each token has its own heartbeat rate (tracker.encoders.ingest); a client
trying many tokens, good or made up, or posting legacy forms with guessed
secrets, has one budget per second for each kind of request, in Redis so
that every web process counts the same. One machine may run many encoders:
the limits are far above what an honest one sends.
"""

from __future__ import annotations

from redis.asyncio import Redis

from common.addresses import client_key
from tracker.encoders import store

# Requests per second per client, by kind.
PER_SECOND = {"heartbeat": 100, "legacy": 20, "encoder-socket": 10}


async def spend(redis: Redis, kind: str, address: str, *, now: float) -> bool:
    """Whether one more `kind` request from `address` is within its budget this second (and count it)."""
    key = store.key("rate", "client", kind, client_key(address), str(int(now)))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, 2)
        count, _ = await pipe.execute()
    return count <= PER_SECOND[kind]
