"""daphne's walks over every connection, taken less often.

daphne's `Server` walks all its connections every second
(`application_checker`: reaping finished application instances, cancelling
those that outlive `--application-close-timeout`) and every two seconds
(`timeout_checker`: handshake and keepalive timeouts). Each walk is cheap
per connection, but with 10,000 idle viewer sockets the two were most of an
idle process's CPU: 41 % and 35 % of the samples (docs/performance.md,
"Idle sockets"). Here only every `DAPHNE_SWEEP_EVERY`-th round walks; the
others just set the next round. What that delays is bounded: a closed
connection's entry (an HTTP request's too, once answered) is dropped up to
that many seconds later, so a process answering 1,000 requests a second
holds about 5,000 more of them; a stuck handshake or a keepalive ping is
noticed up to 2 x that many seconds later (the production unit pings after
120 s).

This reaches into daphne's internals, so it is fenced: daphne is pinned
exactly (requirements.in); `probe()` checks that each method is there and
still sets its own next round with the period assumed here, and otherwise
logs one line and leaves daphne as it is; `DAPHNE_SWEEP_EVERY=1` turns it
off; common/tests/test_daphne_sweeps.py fails on a daphne that changed them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)

# daphne's own period of each walk, in seconds, as its source sets it.
PERIODS = {"application_checker": 1, "timeout_checker": 2}
_SPARSE = "_sparse_sweeps"


def probe() -> list[str]:
    """What in daphne's `Server` differs from what the sparse sweeps assume (empty: nothing)."""
    from daphne.server import Server  # type: ignore[import-untyped]

    problems = []
    for name, period in PERIODS.items():
        method = getattr(Server, name, None)
        if method is None:
            problems.append(f"Server.{name} is gone")
            continue
        method = getattr(method, _SPARSE, method)  # the original, if already wrapped here
        if f"reactor.callLater({period}, self.{name})" not in inspect.getsource(method):
            problems.append(f"Server.{name} no longer sets its next round {period} s on")
    return problems


def call_later(seconds: float, then: Callable[[], None]) -> None:
    from twisted.internet import reactor  # daphne's, installed by then

    reactor.callLater(seconds, then)  # type: ignore[arg-type]  # typed as the interface, whose methods take no self


def sparse(original: Callable[..., None], name: str, every: int) -> Callable[..., None]:
    """`original`, walking on every `every`-th round; the other rounds only set the next one."""
    period = PERIODS[name]

    def round_(server: object) -> None:
        rounds = server.__dict__.setdefault(_SPARSE, dict.fromkeys(PERIODS, 0))
        rounds[name] += 1
        if rounds[name] % every:
            call_later(period, getattr(server, name))
            return
        original(server)

    setattr(round_, _SPARSE, original)
    return round_


def sweep_less_often() -> bool:
    """Install the sparse sweeps on daphne's Server (once, before it serves); returns whether they are on."""
    from daphne.server import Server

    every = settings.DAPHNE_SWEEP_EVERY
    if every <= 1:
        return False
    if problems := probe():
        logger.warning("daphne's connection sweeps kept at daphne's pace: %s", "; ".join(problems))
        return False
    for name in PERIODS:
        method = getattr(Server, name)
        setattr(Server, name, sparse(getattr(method, _SPARSE, method), name, every))
    logger.info(
        "daphne's connection sweeps: every %d s and %d s (DAPHNE_SWEEP_EVERY=%d)",
        *(every * period for period in PERIODS.values()),
        every,
    )
    return True
