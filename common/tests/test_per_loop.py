"""One object per running event loop, made on first use and gone with its loop."""

from __future__ import annotations

import asyncio
import gc

from common.per_loop import PerLoop


class Thing:
    pass


def test_each_loop_gets_its_own_object_made_once():
    things = PerLoop(Thing)

    async def twice() -> tuple[Thing | None, Thing, Thing]:
        return things.existing(), things.get(), things.get()

    before, first, again = asyncio.run(twice())
    _, other, _ = asyncio.run(twice())

    assert before is None
    assert first is again
    assert other is not first


def test_an_object_goes_with_its_loop():
    things = PerLoop(Thing)
    loop = asyncio.new_event_loop()

    async def make() -> None:
        things.get()

    loop.run_until_complete(make())
    assert len(things._objects) == 1

    loop.close()
    del loop
    gc.collect()

    assert len(things._objects) == 0
