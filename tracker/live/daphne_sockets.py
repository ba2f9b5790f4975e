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
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any


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
    """(daphne's server, the websocket protocol) behind this ASGI `send`, or None under another server."""
    if not (isinstance(send, functools.partial) and getattr(send.func, "__name__", "") == "handle_reply"):
        return None
    server = getattr(send.func, "__self__", None)
    protocol = send.args[0] if send.args else None
    if not (hasattr(protocol, "sendPreparedMessage") and hasattr(server, "connections")):
        return None
    return server, protocol


def direct_writer(send: Callable[..., Any]) -> DaphneSocket | None:
    """A function writing a Frame to this ASGI `send`'s daphne socket, or None if it has none."""
    found = _daphne(send)
    return None if found is None else DaphneSocket(*found)


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
    protocol = found[1] if found else None
    # Only daphne's own queue as handed to a consumer starting: nobody waits on it yet.
    if not isinstance(queue, asyncio.Queue) or getattr(protocol, "application_queue", None) is not queue:
        return receive
    if queue._getters:
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

    __slots__ = ("protocol", "server")

    def __init__(self, server: Any, protocol: Any) -> None:
        self.server, self.protocol = server, protocol

    def shed_handshake(self) -> None:
        """Drop what only the handshake needed; call once the socket is open."""
        protocol = self.protocol
        transport = protocol.transport
        channel = getattr(transport, "producer", None)
        # Twisted's HTTPChannel pauses the transport only between requests; an
        # upgraded one stays "handling" its request for good, so it pauses nothing.
        if (
            type(channel).__name__ == "HTTPChannel"
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
        if getattr(closed, "called", False) and getattr(closed, "result", None) is self.protocol:
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
