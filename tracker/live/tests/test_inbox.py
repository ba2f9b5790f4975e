"""What tracker.live.daphne_sockets does to keep an idle daphne socket small: the light inbox that
replaces daphne's per-socket asyncio.Queue, and a closed socket freed at once."""

import asyncio
import functools

from tracker.live.daphne_sockets import Inbox, own_inbox


async def test_messages_come_out_in_order_whether_queued_or_awaited():
    inbox = Inbox([{"n": 0}])
    inbox.put_nowait({"n": 1})
    assert [await inbox.get(), await inbox.get()] == [{"n": 0}, {"n": 1}]
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait({"n": 2})
    inbox.put_nowait({"n": 3})
    assert await reader == {"n": 2}
    assert await inbox.get() == {"n": 3}


async def test_a_cancelled_reader_loses_no_message():
    inbox = Inbox([])
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    await asyncio.sleep(0)
    inbox.put_nowait({"type": "websocket.disconnect"})
    assert await asyncio.wait_for(inbox.get(), 1) == {"type": "websocket.disconnect"}


class Protocol:
    """Stands for daphne's websocket protocol: what own_inbox looks for is its queue."""

    def sendPreparedMessage(self, prepared):  # noqa: N802 (autobahn's name)
        raise AssertionError("not sending here")


class Server:
    connections: dict = {}

    async def handle_reply(self, protocol, message):
        raise AssertionError("not sending here")


async def test_daphnes_queue_is_swapped_and_emptied_and_what_it_held_is_kept():
    server, protocol, queue = Server(), Protocol(), asyncio.Queue()
    protocol.application_queue = queue
    queue.put_nowait({"type": "websocket.connect"})
    receive = own_inbox(queue.get, functools.partial(server.handle_reply, protocol))
    assert isinstance(protocol.application_queue, Inbox)
    assert vars(queue) == {}  # nothing of it held any more
    protocol.application_queue.put_nowait({"type": "websocket.receive", "text": "hi"})
    assert await receive() == {"type": "websocket.connect"}
    assert await receive() == {"type": "websocket.receive", "text": "hi"}


async def test_other_servers_keep_their_receive():
    queue = asyncio.Queue()

    async def send(message):
        pass

    assert own_inbox(queue.get, send) == queue.get
    assert vars(queue)


def test_a_closed_sockets_protocol_is_freed_without_the_collector():
    import gc
    import weakref

    from twisted.internet.defer import Deferred

    from tracker.live.daphne_sockets import DaphneSocket

    protocol = Protocol()
    protocol.is_closed = Deferred()
    protocol.is_closed.callback(protocol)  # what autobahn does when the socket closes
    gone = weakref.ref(protocol)
    socket = DaphneSocket(Server(), protocol)
    gc.disable()
    try:
        socket.forget()
        del socket, protocol
        assert gone() is None  # freed by its reference count, not left for a full collection
    finally:
        gc.enable()
