"""The snapshot carries the server's clock and the schedule offset, stamped
when it is sent, so browsers time talk boundaries by the server (issue 15, item 8)."""

import asyncio
import time

import pytest

from tracker.live.tests.test_live_feed import connect, receive


@pytest.mark.usefixtures("redis")
async def test_each_snapshot_carries_the_time_it_was_sent_and_the_schedule_offset(settings):
    settings.SCHEDULE_OFFSET_SECONDS = -86400.5
    first = await connect()
    snapshot = await receive(first)
    assert abs(snapshot["time"] - time.time()) < 2
    assert snapshot["schedule_offset"] == -86400.5

    await asyncio.sleep(1.1)
    second = await connect()
    later = await receive(second)
    assert later["time"] - snapshot["time"] >= 1  # stamped per send, not cached with the rooms
    assert later["rooms"] == snapshot["rooms"]
    await first.disconnect()
    await second.disconnect()


@pytest.mark.usefixtures("redis")
@pytest.mark.parametrize("offset", [-31536032.0, -31536032.25, 1234567.5, 0.0])
async def test_the_schedule_offset_reaches_browsers_exactly(settings, offset):
    # Rounded to six digits, a year back (-31536032 s) arrived as -3.1536e+07: the clock ran 32 s early.
    settings.SCHEDULE_OFFSET_SECONDS = offset
    viewer = await connect()
    assert (await receive(viewer))["schedule_offset"] == offset
    await viewer.disconnect()
