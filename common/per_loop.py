"""One object per running event loop: a Redis pool, a hub, a lock…

Such objects belong to the loop they were made on (asyncio locks, futures and
pools must not cross loops). Production runs one loop per process; tests and
Django's async_to_sync run others, each of which gets its own, and an object
goes with its loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """`get()` gives the running loop's object, made by `make` the first time."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._objects: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        found = self._objects.get(loop)
        if found is None:
            found = self._objects[loop] = self._make()
        return found

    def existing(self) -> T | None:
        """The running loop's object if it was made, without making one."""
        return self._objects.get(asyncio.get_running_loop())

    def clear(self) -> None:
        """Forget every loop's object (tests that change what `make` would make)."""
        self._objects.clear()
