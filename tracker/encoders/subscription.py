"""A Redis subscription that tells a quiet Redis from one that is gone without a word.

A subscription idles by design, so its reads cannot have a command's deadline. A Redis that
went away without closing the connection (its host off, the link cut, the
process frozen) then looks like a quiet one for as long as TCP keeps trying
(about 15 minutes), and through a Sentinel failover the live feed of every
process whose subscription sat on the old primary stands still. So a
subscription quiet for a second asks Redis for a PING, and one that heard
nothing at all for SILENT_SECONDS, not even that answer, is taken for lost:
its caller reconnects (to the new primary, if one was promoted).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

# A subscription quiet this long asks for a PING (one a second while idle: nothing to Redis).
QUIET_SECONDS = 1.0
# Heard nothing for this long, not even the PING's answer: lost. The answer is
# due within a command's timeout (store.connect: 2 s), after a second's quiet.
SILENT_SECONDS = 3.0


class SubscriptionSilent(RedisConnectionError):
    """Redis said nothing to a subscription, not even the answer to its PING."""


class Listening:
    """The published messages of one subscription, and the time it last heard anything."""

    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub
        self.heard = time.monotonic()
        self.pinged = False

    async def next_message(self) -> dict[str, Any] | None:
        """The next published message, or None after at most QUIET_SECONDS; raises SubscriptionSilent."""
        message = await self.pubsub.get_message(timeout=QUIET_SECONDS)
        now = time.monotonic()
        if message is not None:
            self.heard, self.pinged = now, False
            return message if message["type"] == "message" else None  # else a subscription's or PING's answer
        if now - self.heard >= SILENT_SECONDS:
            raise SubscriptionSilent(f"nothing from redis for {now - self.heard:.1f} s, not even a PING's answer")
        if not self.pinged:
            await self.pubsub.ping()
            self.pinged = True
        return None


@contextlib.asynccontextmanager
async def listening(client: Redis, *channels: str) -> AsyncIterator[Listening]:
    """`channels` subscribed to on a pub/sub of `client`'s, heard through a Listening.

    Its pub/sub keeps subscribe messages (the PING's answer is one of them: ignored,
    a quiet subscription could not be told from a silent one)."""
    async with client.pubsub() as pubsub:
        await pubsub.subscribe(*channels)
        yield Listening(pubsub)
