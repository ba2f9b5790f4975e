"""One websocket frame for every socket of a broadcast, written straight to daphne.

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

Under any other server (the tests' communicators, uvicorn) there is no such
protocol and sockets get the ASGI send.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

Writer = Callable[["Frame"], None]


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


def direct_writer(send: Callable[..., Any]) -> Writer | None:
    """A function writing a Frame to this ASGI `send`'s daphne socket, or None if it has none."""
    if not (isinstance(send, functools.partial) and getattr(send.func, "__name__", "") == "handle_reply"):
        return None
    server = getattr(send.func, "__self__", None)
    protocol = send.args[0] if send.args else None
    if not (hasattr(protocol, "sendPreparedMessage") and hasattr(server, "connections")):
        return None
    return DaphneSocket(server, protocol)


class DaphneSocket:
    """Writes frames to one daphne websocket (slots: every idle viewer holds one)."""

    __slots__ = ("protocol", "server")

    def __init__(self, server: Any, protocol: Any) -> None:
        self.server, self.protocol = server, protocol

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
