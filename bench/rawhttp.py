"""The floor for one-connection pauses: a bare asyncio HTTP/1.1 server, one fixed answer.

No framework, no Redis, nothing periodic: whatever stalls wrk sees here at
one connection is the machine's (other processes, the kernel, the VM), not
a server's. The pages scenario measures it in the same run as the site's
rows (docs/performance.md, "Pauses"). Run: python -m bench.rawhttp PORT
"""

from __future__ import annotations

import asyncio
import signal
import sys

BODY = b'{"ok": true}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
END_OF_HEAD = b"\r\n\r\n"


class Answering(asyncio.Protocol):
    """The fixed answer to every request head that arrives (the load's requests have no body)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        self.pending += data
        *heads, self.pending = self.pending.split(END_OF_HEAD)
        for _ in heads:
            self.transport.write(ANSWER)


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    server = await loop.create_server(Answering, "127.0.0.1", port)
    async with server:
        await stop


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
