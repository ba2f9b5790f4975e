"""The control plane's subscription to a Redis cut off without a word (its link pulled, as when the
primary's host goes off): noticed within seconds, and orders reach their sockets again once a Redis
is reachable.

Orders for sockets (tracker/socket_orders.py: a logout closing the operator's dashboards, a revoked
token closing its encoder's socket) travel on channels-redis's pub/sub layer. With redis-py's and
channels-redis's own settings its subscription sat quiet on a cut link until TCP gave up, about 15
minutes, and every order meanwhile was lost (tried: nothing at all in this test's 10 s); the layer's
connection settings are in project/settings.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from channels_redis.pubsub import RedisPubSubChannelLayer
from redis import RedisError

from testing import far_host
from testing.processes import RedisProcess, use_layer

REASON = far_host.unavailable()
pytestmark = [
    pytest.mark.timed,
    # Under CI a machine that cannot run it fails, as a missing browser does.
    pytest.mark.skipif(REASON is not None and os.environ.get("CI") != "true", reason=REASON or ""),
]


@pytest.fixture
def far_redis(tmp_path: Path) -> Iterator[tuple[far_host.FarHost, RedisProcess]]:
    with far_host.far_host() as host:
        server = RedisProcess(6379, tmp_path, host=host.address, launcher=host.launcher)
        server.start()
        try:
            yield host, server
        finally:
            server.stop()


def subscribers(url: str) -> set[str]:
    """The ids of the Redis connections subscribed to something."""
    with redis.Redis.from_url(url, socket_timeout=2) as client:
        return {str(c["id"]) for c in client.client_list() if int(c["sub"]) or int(c["psub"])}


def lost(caplog: pytest.LogCaptureFixture) -> bool:
    """The layer's subscription failed: the site's one line for it (tracker/socket_orders.py)."""
    return any("the control plane lost redis" in record.getMessage() for record in caplog.records)


async def test_the_control_planes_subscription_notices_its_redis_cut_off_and_takes_orders_again(
    far_redis, settings, caplog
):
    host, server = far_redis
    use_layer(settings, server.url)  # the site's own layer settings, at the far Redis
    layer = RedisPubSubChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    channel = await layer.new_channel()
    await layer.group_add("operator.1", channel)
    # A socket's consumer waits in receive() all along (cancelling a receive unsubscribes its channel).
    waiting = asyncio.ensure_future(layer.receive(channel))
    try:
        await layer.group_send("operator.1", {"type": "order.close", "n": 0})
        assert (await asyncio.wait_for(asyncio.shield(waiting), 5))["n"] == 0
        waiting = asyncio.ensure_future(layer.receive(channel))
        subscribed_before = subscribers(server.url)
        caplog.set_level(logging.WARNING, logger="channels_redis")
        host.cut()
        cut = time.monotonic()
        while not lost(caplog) and time.monotonic() - cut < 10:
            await asyncio.sleep(0.05)
        noticed_in = time.monotonic() - cut if lost(caplog) else None
        host.mend()
        mended = time.monotonic()

        # Orders reach the socket again: its subscription was made again, or they would be lost.
        while not waiting.done() and time.monotonic() - mended < 10:
            with contextlib.suppress(RedisError):  # the publishing connection on its way back
                await layer.group_send("operator.1", {"type": "order.close", "n": 1})
            await asyncio.wait([waiting], timeout=0.5)
        again_in = time.monotonic() - mended
        received = waiting.result() if waiting.done() else None
        subscribed_after = subscribers(server.url)
    finally:
        waiting.cancel()
        await layer.flush()

    print(f"\nlink cut: the layer noticed after {noticed_in} s; orders arrive {again_in:.2f} s after it is mended")
    # The PING after a second's quiet, unacknowledged for 3 s (TCP_USER_TIMEOUT): about 4 s.
    assert noticed_in is not None and noticed_in < 7, [record.getMessage() for record in caplog.records]
    assert received == {"type": "order.close", "n": 1}
    # On a connection of its own: not the old one carrying on (a failover's new primary is another host).
    assert subscribed_after - subscribed_before, (subscribed_before, subscribed_after)
