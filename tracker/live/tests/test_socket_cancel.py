"""A socket's task stops when asked, even if a library dropped the request mid-message
(Python 3.11's wait_for inside redis-py: common/tasks.py). daphne cancels every
socket's task on SIGTERM and waits for them all: one that carried on held a
process's shutdown for minutes (a CI run met it)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from channels.testing import WebsocketCommunicator

from tracker.live.sockets import ControlledConsumer, DatabaseFreeConsumer


class DropsOneCancel:
    """A handler whose await drops the first cancel, as redis-py's can."""

    handling: asyncio.Event  # set by each test

    async def websocket_connect(self, message: dict) -> None:
        await self.accept()

    async def websocket_receive(self, message: dict) -> None:
        self.handling.set()
        with contextlib.suppress(asyncio.CancelledError):  # dropped: Task.cancelling() still counts it
            await asyncio.sleep(0.5)


class Viewerish(DropsOneCancel, DatabaseFreeConsumer):
    pass


class Controlled(DropsOneCancel, ControlledConsumer):
    pass


@pytest.mark.usefixtures("redis")  # the control plane's layer
@pytest.mark.parametrize("consumer", [Viewerish, Controlled])
async def test_a_cancel_dropped_inside_a_message_still_ends_the_socket(consumer, monkeypatch):
    handling = asyncio.Event()
    monkeypatch.setattr(consumer, "handling", handling, raising=False)
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/ws/test/")
    assert (await communicator.connect())[0]
    await communicator.send_to(text_data="a message whose handling awaits Redis")
    await asyncio.wait_for(handling.wait(), timeout=3)

    communicator.future.cancel()  # what daphne's shutdown does to every socket's task
    done, _ = await asyncio.wait({communicator.future}, timeout=2)
    if not done:  # the task carried on: ask again, so the test itself ends
        communicator.future.cancel()
        await asyncio.wait({communicator.future}, timeout=2)

    assert done, "the socket's task went on after its cancel was dropped"
    assert communicator.future.cancelled()
