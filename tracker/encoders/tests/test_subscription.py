"""A subscription tells a quiet Redis from a frozen one (tracker.encoders.subscription), on a real Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio

from testing.processes import RedisProcess, free_port
from tracker.encoders.subscription import SILENT_SECONDS, SubscriptionSilent, listening


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    yield server
    server.resume()  # a test that failed while it was frozen
    server.stop()


async def test_a_quiet_subscription_is_kept_and_hears_what_is_published(server):
    async with (
        redis.asyncio.Redis.from_url(server.url, decode_responses=True) as client,
        listening(client, "news") as news,
    ):
        deadline = time.monotonic() + SILENT_SECONDS + 1.5  # quiet past the silence bound: PINGs answered
        while time.monotonic() < deadline:
            assert await news.next_message() is None
        await client.publish("news", "hello")
        message = None
        for _ in range(3):  # the last PING's answer may come first
            message = message or await news.next_message()
    assert message is not None and (message["channel"], message["data"]) == ("news", "hello")


async def test_a_frozen_redis_is_found_silent(server):
    async with (
        redis.asyncio.Redis.from_url(server.url, decode_responses=True) as client,
        listening(client, "news") as news,
    ):
        assert await news.next_message() is None  # the subscription's answer, heard
        server.pause()  # SIGSTOP: the connection stays open, nothing answers
        frozen = time.monotonic()
        with pytest.raises(SubscriptionSilent):
            while time.monotonic() - frozen < 10:
                await news.next_message()
        found_in = time.monotonic() - frozen
        server.resume()
    assert SILENT_SECONDS - 0.5 <= found_in <= SILENT_SECONDS + 3  # not before its bound, and not minutes after
