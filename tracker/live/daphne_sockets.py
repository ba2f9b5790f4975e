"""Daphne's websockets, handled directly: one frame for every socket of a
broadcast, written straight to daphne; and an idle socket's memory kept small.

Through ASGI each socket's copy of a broadcast goes consumer -> daphne's
`Server.handle_reply` coroutine -> `handle_reply` -> `serverSend` (UTF-8
encode) -> autobahn's `sendMessage` (checks, framing) -> Twisted's write:
an await chain, a dict, an encode and a frame build per socket. Daphne
hands every websocket consumer `functools.partial(server.handle_reply,
protocol)` as its ASGI `send`, so the protocol is known: the hub frames a
message once with autobahn's `factory.prepareMessage` and gives the same bytes to
each protocol's `sendPreparedMessage`, the API autobahn has for broadcasts.

Below that is daphne's floor, Twisted's write: it buffers every write and
registers a writer with the event loop, which sends on a later pass and
unregisters again; two epoll_ctl calls and a loop pass per socket and
message, three quarters of a broadcast's CPU in the profile
(docs/performance.md). So when a socket's Twisted buffer is empty, its
frame goes to the kernel at once with the transport's own `writeSomeData`,
as an asyncio transport would do it; what the kernel does not take, and any
frame behind buffered bytes, goes through Twisted's write as before. Every
path is synchronous and appends behind what is buffered, so a socket's
messages keep their order whichever path each took.

An idle viewer socket is held for hours, so what it keeps counts ten
thousand times (docs/performance.md has the census). Daphne gives each
application an asyncio.Queue as its `receive`: four deques and an Event,
~3 KB, to pass one message at a time; `Inbox` does the same in a few slots.
And after the upgrade Twisted's HTTP channel stays registered as the
socket's producer, keeping the handshake's HTTP request (headers, body
buffer, addresses) alive for the socket's life although it pauses nothing
once the request is handed over; `shed_handshake` lets go of it and of
autobahn's copy of the handshake. When a socket closes, autobahn resolves
its `is_closed` with the protocol itself, a cycle only the collector's rare
full pass would free (the keynote's churn piled them up); `forget` cuts it.

Under any other server (the tests' communicators, uvicorn) there is no such
protocol: sockets get the ASGI send and receive.

The fence: all of the above reads private names of daphne, autobahn, Twisted
and asyncio, pinned exactly in requirements.in. `probe()` looks for every one
of them (REACHES) once, at start-up (project/asgi.py); if any is gone after
an upgrade it says so in one log line and every socket takes the public ASGI
path instead. `LIVE_DIRECT_WRITES=0` turns the direct frame writes off
without an upgrade (the other reaches only save memory and stay). The hub
counts both paths (metric `streaming_live_writes_total{path}`), and
tracker/live/tests/test_fence.py holds the direct path under real daphne.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# Every name of another library this module relies on, by the class holding it
# (an attribute of the class, or one its methods assign to `self`).
REACHES: dict[str, tuple[str, ...]] = {
    "daphne.server.Server": ("handle_reply", "connections", "create_application"),
    # daphne's protocol, with what it inherits from autobahn and Twisted.
    "daphne.ws_protocol.WebSocketProtocol": (
        *("application_queue", "transport", "factory", "STATE_OPEN", "state", "sendPreparedMessage"),
        *("_perMessageCompress", "send_queue", "http_request_data", "http_headers", "is_closed"),
    ),
    "autobahn.websocket.protocol.WebSocketServerFactory": ("prepareMessage",),
    "autobahn.websocket.protocol.PreparedMessage": ("payloadHybi",),
    "twisted.internet.tcp.Server": (
        *("TLS", "writeSomeData", "write", "connected", "disconnecting", "producer", "unregisterProducer"),
        *("_writeDisconnected", "_tempDataBuffer", "dataBuffer", "offset"),
    ),
    "twisted.web.http.HTTPChannel": ("_handlingRequest", "_requestProducer", "requests"),
    "twisted.internet.defer.Deferred": ("called", "result"),  # autobahn's is_closed under Twisted
    "asyncio.Queue": ("_getters", "get", "get_nowait", "empty"),
}
# The packages whose versions the log line names.
PACKAGES = ("daphne", "autobahn", "twisted")


def _holds(cls: type, name: str) -> bool:
    """Whether `cls` has `name`, as a class attribute or assigned to `self` in the code of its or its bases' modules."""
    if hasattr(cls, name):
        return True
    # `self.name = `, `self.name: type = ` or one of a tuple's targets, `self.a, self.name = `.
    assigned = re.compile(rf"\bself\.{re.escape(name)}\s*(?::[^=\n]+|,[\w\s.,]*)?=(?!=)")
    return any(assigned.search(_module_source(base.__module__)) for base in cls.__mro__[:-1])


@functools.cache
def _module_source(module: str) -> str:
    try:
        return inspect.getsource(importlib.import_module(module))
    except (OSError, TypeError):  # no source shipped: nothing provably there
        return ""


def missing_reaches() -> list[str]:
    """The names of REACHES that the installed libraries no longer have ("module.Class.name")."""
    missing = []
    for path, names in REACHES.items():
        module_name, _, class_name = path.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            missing.append(path)
            continue
        missing += [f"{path}.{name}" for name in names if not _holds(cls, name)]
    return missing


@dataclass(frozen=True)
class Fence:
    """What this process may do behind daphne's back (see the module's docstring)."""

    internals: bool  # daphne's protocol behind the ASGI send: inbox, handshake shedding, direct writes
    direct_writes: bool  # frames written straight to the socket; off: through daphne's handle_reply


_fence: Fence | None = None


def probe() -> Fence:
    """Check the reaches once per process and log what follows: one line either way."""
    global _fence
    if _fence is None:
        missing = missing_reaches()
        _fence = Fence(internals=not missing, direct_writes=not missing and settings.LIVE_DIRECT_WRITES)
        versions = ", ".join(f"{name} {version(name)}" for name in PACKAGES)
        if missing:
            logger.warning(
                "live sockets: the public ASGI path for every socket, these internals are gone: %s (%s)",
                ", ".join(missing),
                versions,
            )
        else:
            writes = "engaged" if _fence.direct_writes else "off (LIVE_DIRECT_WRITES)"
            logger.info("live sockets: direct writes %s (%s)", writes, versions)
    return _fence


def forget_probe() -> None:
    """Probe again at the next socket (tests that change the setting)."""
    global _fence
    _fence = None


class Frame:
    """A text message, framed for daphne's sockets the first time one needs it."""

    __slots__ = ("_prepared", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._prepared: Any = None

    def prepared(self, protocol: Any) -> Any:
        if self._prepared is None:
            self._prepared = protocol.factory.prepareMessage(self.text.encode())
        return self._prepared


def _daphne(send: Callable[..., Any]) -> tuple[Any, Any] | None:
    """(daphne's server, the websocket protocol) behind this ASGI `send`, or None under another server
    (or when the probe found daphne's internals changed)."""
    if not probe().internals:
        return None
    if not (isinstance(send, functools.partial) and getattr(send.func, "__name__", "") == "handle_reply"):
        return None
    server = getattr(send.func, "__self__", None)
    protocol = send.args[0] if send.args else None
    if not (hasattr(protocol, "sendPreparedMessage") and hasattr(server, "connections")):
        return None
    return server, protocol


def direct_writer(send: Callable[..., Any]) -> DaphneSocket | None:
    """This ASGI `send`'s daphne socket, writing Frames directly unless LIVE_DIRECT_WRITES is off;
    None if it has none."""
    found = _daphne(send)
    return None if found is None else DaphneSocket(*found, direct=probe().direct_writes)


class Inbox:
    """A socket's incoming ASGI messages: daphne's queue, minus what one reader never uses."""

    __slots__ = ("_items", "_waiter")

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self._items = items
        self._waiter: asyncio.Future[dict[str, Any]] | None = None

    def put_nowait(self, message: dict[str, Any]) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():  # a cancelled reader leaves it done
            waiter.set_result(message)
        else:
            self._items.append(message)

    async def get(self) -> dict[str, Any]:
        if self._items:
            return self._items.pop(0)
        self._waiter = asyncio.get_running_loop().create_future()
        return await self._waiter


def own_inbox(receive: Callable[[], Awaitable[Any]], send: Callable[..., Any]) -> Callable[[], Awaitable[Any]]:
    """Swap daphne's queue behind `receive` for an Inbox, keeping what it holds; other servers: `receive`."""
    found, queue = _daphne(send), getattr(receive, "__self__", None)
    # Only daphne's own queue as handed to a consumer starting: nobody waits on it yet.
    if found is None or not isinstance(queue, asyncio.Queue):
        return receive
    protocol = found[1]
    held: Any = getattr(protocol, "application_queue", None)
    if held is not queue or queue._getters:
        return receive
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    inbox = Inbox(items)
    protocol.application_queue = inbox
    # The routers' frames (Channels awaits each layer) keep the old `receive`
    # for the socket's life: empty the queue, so only a bare object stays and
    # any later use of it fails loudly.
    vars(queue).clear()
    return inbox.get


class DaphneSocket:
    """Writes frames to one daphne websocket (slots: every idle viewer holds one)."""

    __slots__ = ("direct", "protocol", "server")

    def __init__(self, server: Any, protocol: Any, *, direct: bool = True) -> None:
        self.server, self.protocol = server, protocol
        self.direct = direct  # False: frames go through daphne's ASGI send (DatabaseFreeConsumer.write)

    def shed_handshake(self) -> None:
        """Drop what only the handshake needed; call once the socket is open."""
        protocol = self.protocol
        transport = protocol.transport
        channel = getattr(transport, "producer", None)
        # Twisted's HTTPChannel pauses the transport only between requests; an
        # upgraded one stays "handling" its request for good, so it pauses nothing.
        if (
            channel is not None
            and type(channel).__name__ == "HTTPChannel"
            and getattr(channel, "_handlingRequest", False)
            and getattr(channel, "_requestProducer", None) is None
        ):
            transport.unregisterProducer()
            channel.requests.clear()
        # Autobahn's raw handshake and its parsed headers (daphne copied them into the scope).
        protocol.http_request_data = b""
        if isinstance(getattr(protocol, "http_headers", None), dict):
            protocol.http_headers.clear()

    def forget(self) -> None:
        """Call once the socket closed: autobahn resolves `is_closed` with the
        protocol itself, a cycle that only the collector's rare full pass
        frees; cut, the closed socket's memory goes back at once (keynote churn)."""
        closed = getattr(self.protocol, "is_closed", None)
        if closed is not None and getattr(closed, "called", False) and getattr(closed, "result", None) is self.protocol:
            closed.result = None

    def __call__(self, frame: Frame) -> None:
        protocol = self.protocol
        # What daphne's handle_reply checks, then what autobahn's sendMessage does.
        details = self.server.connections.get(protocol)
        if protocol.state != protocol.STATE_OPEN or details is None or "disconnected" in details:
            return
        prepared = frame.prepared(protocol)
        if protocol._perMessageCompress is not None or protocol.send_queue:
            protocol.sendPreparedMessage(prepared)  # compressed per socket, or behind autobahn's own queue
            return
        data = prepared.payloadHybi
        transport = protocol.transport
        if _idle(transport):
            sent = transport.writeSomeData(data)
            if isinstance(sent, int):  # else the connection is lost: Twisted's write drops the frame
                data = data[sent:]
        if data:
            transport.write(data)


def _idle(transport: Any) -> bool:
    """Whether a plain TCP transport of Twisted has nothing buffered and is open for writing."""
    return (
        not getattr(transport, "TLS", True)
        and hasattr(transport, "writeSomeData")
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport._tempDataBuffer
        and len(transport.dataBuffer) == transport.offset
    )
