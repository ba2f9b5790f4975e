"""A cancel that a library swallowed still stops a loop that checks for it."""

from __future__ import annotations

import asyncio

import pytest

from common.tasks import honour_lost_cancel


async def loop_that_drops_one_cancel(*, check: bool) -> None:
    dropped = False
    while True:
        try:
            await asyncio.sleep(0.01)  # the first cancel lands here and is dropped, as Python 3.11's
        except asyncio.CancelledError:  # wait_for can drop one inside redis-py
            if dropped:
                raise
            dropped = True
        if check:
            honour_lost_cancel()


@pytest.mark.parametrize("check", [True, False])
async def test_a_dropped_cancel_stops_only_a_loop_that_checks(check: bool) -> None:
    task = asyncio.create_task(loop_that_drops_one_cancel(check=check))
    await asyncio.sleep(0.03)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=0.3)
    task.cancel()  # a second request ends the one that did not check
    await asyncio.wait({task}, timeout=1)

    assert (task in done) is check
    assert task.cancelled()


async def test_no_cancel_asked_no_stop() -> None:
    honour_lost_cancel()  # in a task never cancelled: nothing happens
