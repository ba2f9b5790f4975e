"""Noticing an outage of our own store, so that judging resumes with grace.

While Redis cannot be reached, encoders' heartbeats are refused: when it
returns, their records look as if they had missed them. The sweeper asks
a StoreWatch before each round; after an outage (a failed call, or a Redis
that restarted meanwhile, perhaps while no worker ran) every encoder gets
an interval plus its grace (tracker.encoders.ingest.grant_recovery_grace) before
anything is judged.
"""

from __future__ import annotations

from redis.asyncio import Redis

from tracker.encoders import store


class StoreWatch:
    """One worker's memory of whether the store was out of reach."""

    def __init__(self) -> None:
        self.lost = False
        self.run_id: str | None = None

    def failed(self) -> None:
        """A call to Redis failed: treat everything since as an outage."""
        self.lost = True

    async def outage_ended(self, redis: Redis) -> bool:
        """Whether the store is back from an outage that was not dealt with yet.

        A restarted Redis has a new run id; the last one seen is kept in Redis
        (persisted with the rest), so a worker that starts after the restart
        notices it too.
        """
        run_id = (await redis.info("server"))["run_id"]
        if run_id != self.run_id:
            previous = await redis.getset(store.key("redis-run-id"), run_id)
            if previous is not None and previous != run_id:
                self.lost = True
            self.run_id = run_id
        return self.lost

    def dealt_with(self) -> None:
        self.lost = False
