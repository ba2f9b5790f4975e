"""Exponential backoff with jitter, for retries after the tracker failed."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays of base, 2*base, 4*base… up to `cap`, each scaled by a random factor in [0.5, 1].

    The jitter matters after a tracker restart: every encoder of an event
    notices at once, and without it they would all retry in lockstep.
    Keeping at least half of each delay ("equal jitter") still spaces
    retries out when the tracker stays down.
    """

    def __init__(self, *, base: float = 1.0, cap: float = 60.0, rng: Callable[[], float] = random.random):
        self.base = base
        self.cap = cap
        self.rng = rng
        self.attempts = 0

    def next(self) -> float:
        """The delay before the next retry; each call doubles the one after."""
        delay = min(self.cap, self.base * 2.0**self.attempts)
        if delay < self.cap:  # stop growing the exponent once capped: 2.0**n must not overflow
            self.attempts += 1
        return delay * (0.5 + 0.5 * self.rng())

    def reset(self) -> None:
        self.attempts = 0
