"""Stopping tasks on Python 3.11, whose asyncio.wait_for can drop a cancel.

redis-py sends every command through `asyncio.wait_for` when a socket timeout
is set, and Python 3.11's `wait_for` returns the result instead of raising
when a cancel lands just as the wait ends (CPython gh-86296). The task then
carries on as if never asked to stop, and whoever waits for it (a process
shutting down, a test's event loop closing) waits for ever. The request is
still counted by `Task.cancelling()`, so a loop can notice it.
"""

from __future__ import annotations

import asyncio


def honour_lost_cancel() -> None:
    """Raise CancelledError if this task was asked to stop and a library swallowed the request."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
