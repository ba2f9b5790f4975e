"""Full collections that free nothing freeze their survivors; every so often everything is walked again."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from common import collector


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def policy() -> Iterator[tuple[collector.Collector, Clock]]:
    # Alone: the site's own policy is installed here too once project.asgi was imported.
    others = [c for c in gc.callbacks if isinstance(getattr(c, "__self__", None), collector.Collector)]
    for callback in others:
        gc.callbacks.remove(callback)
    clock = Clock()
    installed = collector.Collector(clock)
    gc.callbacks.append(installed.after)
    gc.collect()  # what earlier tests left for the collector, which would count as freed by the tests' collections
    gc.unfreeze()
    yield installed, clock
    gc.callbacks.remove(installed.after)
    gc.callbacks.extend(others)
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_a_full_collection_that_frees_nothing_freezes_its_survivors(policy):
    kept = [Node() for _ in range(10_000)]  # live, like sockets' objects

    gc.collect()

    assert gc.get_freeze_count() >= len(kept)


def test_a_full_collection_that_frees_cycles_freezes_nothing(policy):
    for _ in range(1_000):  # garbage only the collector can free
        a, b = Node(), Node()
        a.other, b.other = b, a
    del a, b

    gc.collect()

    assert gc.get_freeze_count() == 0


def free_some_cycles() -> None:
    for _ in range(1_000):
        a, b = Node(), Node()
        a.other, b.other = b, a


@pytest.mark.parametrize("freeing", [False, True], ids=["quiet", "while-collections-keep-freeing-cycles"])
def test_the_frozen_are_walked_again_after_a_while(policy, freeing: bool):
    _, clock = policy
    kept = [Node() for _ in range(10_000)]
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)

    clock.now = collector.REWALK_SECONDS
    if freeing:
        free_some_cycles()
    gc.collect()  # unfreezes (whatever it freed): the next full collection walks everything once

    assert gc.get_freeze_count() == 0
    clock.now += 1
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)
