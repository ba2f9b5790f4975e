"""bench.crowd: what the keynote's messages per viewer per second are divided by."""

from __future__ import annotations

import asyncio
import time

import pytest

from bench.crowd import Crowd


class QuietSocket:
    """Stands in for a viewer socket: takes the crowd's health reports, sends nothing."""

    async def send(self, text: str) -> None:
        pass


async def test_socket_seconds_follow_the_clock_when_a_loaded_client_ticks_late():
    crowd = Crowd([])
    crowd.sockets = dict.fromkeys(range(10), QuietSocket())
    crowd.start(0.0)  # counting, no churn
    started = time.monotonic()
    await asyncio.sleep(0.15)
    time.sleep(1.0)  # the client's loop busy, as under 10,000 sockets: its ticks come late
    await asyncio.sleep(0.25)
    elapsed = time.monotonic() - started
    crowd.sockets.clear()
    await crowd.close()

    assert crowd.socket_seconds == pytest.approx(10 * elapsed, rel=0.25)  # the last tick may be 0.1 s back
