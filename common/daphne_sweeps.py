"""daphne's table of connections: walked less often, a finished entry dropped at once.

daphne's `Server` walks all its connections every second
(`application_checker`: reaping finished application instances, cancelling
those that outlive `--application-close-timeout`) and every two seconds
(`timeout_checker`: handshake and keepalive timeouts). Each walk is cheap
per connection, but with 10,000 idle viewer sockets the two were most of an
idle process's CPU: 41 % and 35 % of the samples (docs/performance.md,
"Idle sockets"). Here only every `DAPHNE_SWEEP_EVERY`-th round walks; the
others just set the next round. A stuck handshake or a keepalive ping is
noticed up to 2 x that many seconds later (the production unit pings after
120 s).

Reaping is not left to the walk: daphne keeps every answered HTTP request
(and closed socket) in its table until a walk drops it, a second later at
daphne's own pace. At 2,000 requests a second each request's ~40 objects
outlived Python's young collections, so a full collection walked the ~75,000
of them about every second and stopped the process for 40-50 ms each time
(wrk at one connection: p99 25-86 ms against a p50 of 0.4 ms;
docs/performance.md, "Pauses"). So an entry is dropped as soon as its
connection closed and its application ended, exactly as the walk would
drop it (`reap_if_finished`), with the walk's error line for an
application that raised. A request's objects then die young, freed by
reference counting.

This reaches into daphne's internals, so it is fenced: daphne is pinned
exactly (requirements.in); `probe()` checks that each method is there and
still keeps its table and sets its own next round as assumed here, and
otherwise logs one line and leaves daphne as it is; `DAPHNE_SWEEP_EVERY=1`
turns both off; common/tests/test_daphne_sweeps.py fails on a daphne that
changed them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# daphne's own period of each walk, in seconds, as its source sets it.
PERIODS = {"application_checker": 1, "timeout_checker": 2}
_SPARSE = "_sparse_sweeps"
# What daphne's source does with its table, which reaping at once relies on:
# where it keeps an application, how it marks a closed connection, and the
# walk's rule for dropping an entry, which `reap_if_finished` repeats.
TABLE = {
    "create_application": ('self.connections[protocol]["application_instance"] = ',),
    "protocol_disconnected": ('self.connections[protocol]["disconnected"] = ',),
    "application_checker": ("if not application_instance and disconnected:", "del self.connections[protocol]"),
}
_REAPING = "_reaping_at_once"


def probe() -> list[str]:
    """What in daphne's `Server` differs from what the sweeps and the reaping assume (empty: nothing)."""
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
    for name, texts in TABLE.items():
        method = getattr(Server, name, None)
        method = getattr(method, _SPARSE, getattr(method, _REAPING, method))  # the original
        if method is None or not all(text in inspect.getsource(method) for text in texts):
            problems.append(f"Server.{name} no longer keeps its connections as assumed")
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


def reap_if_finished(server: Any, protocol: object) -> None:
    """Drop `protocol`'s entry if its connection closed and its application ended (or never began),
    logging the application's exception as the walk would."""
    details = server.connections.get(protocol)
    if details is None or "disconnected" not in details:
        return
    instance: asyncio.Future[None] | None = details.get("application_instance")
    if instance is not None:
        if not instance.done():
            return  # running still: the walk cancels it if it outlives the close timeout
        failure = None if instance.cancelled() else instance.exception()
        if isinstance(failure, KeyboardInterrupt):
            return  # the walk stops the server for it
        if failure is not None:
            # Logged now: asking for the exception took it off asyncio's own last-chance log,
            # and a process stopped before the next walk would never have said it.
            logger.error("Exception inside application: %s", failure, exc_info=failure)
    del server.connections[protocol]


def reaping_create_application(original: Callable[..., Any]) -> Callable[..., Any]:
    """daphne's `create_application`, its application reaped as it ends (if its connection closed by then)."""

    def create_application(server: Any, protocol: object, scope: dict[str, Any]) -> Any:
        queue = original(server, protocol, scope)
        instance = server.connections.get(protocol, {}).get("application_instance")
        if instance is not None:
            instance.add_done_callback(lambda _: reap_if_finished(server, protocol))
        return queue

    setattr(create_application, _REAPING, original)
    return create_application


def reaping_protocol_disconnected(original: Callable[..., None]) -> Callable[..., None]:
    """daphne's `protocol_disconnected`, the entry reaped at once if its application has ended."""

    def protocol_disconnected(server: Any, protocol: object) -> None:
        # A rejected websocket reports its close twice; the entry may be gone by the second.
        if protocol in server.connections:
            original(server, protocol)
            reap_if_finished(server, protocol)

    setattr(protocol_disconnected, _REAPING, original)
    return protocol_disconnected


REAPING = {"create_application": reaping_create_application, "protocol_disconnected": reaping_protocol_disconnected}


def sweep_less_often() -> bool:
    """Install the sparse sweeps and the reaping at once on daphne's Server (once, before it serves);
    returns whether they are on."""
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
    for name, wrap in REAPING.items():
        method = getattr(Server, name)
        setattr(Server, name, wrap(getattr(method, _REAPING, method)))
    logger.info(
        "daphne's connection sweeps: every %d s and %d s, finished entries at once (DAPHNE_SWEEP_EVERY=%d)",
        *(every * period for period in PERIODS.values()),
        every,
    )
    return True
