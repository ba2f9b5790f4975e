"""The fence around what tracker.live reaches for inside daphne, autobahn, Twisted,
asyncio and Channels: found by the probe, or given up for the public path with one log line.

Under real daphne, tracker/live/tests/test_live_delivery.py holds the direct path
engaged (and the order of frames with it forced off)."""

from __future__ import annotations

import difflib
import functools
import inspect
import logging
from pathlib import Path

import pytest
from channels.consumer import AsyncConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.utils import await_many_dispatch

from tracker.live import daphne_sockets
from tracker.live.daphne_sockets import direct_writer, missing_reaches, own_inbox

# Channels' consumer loop as it was when tracker/live/sockets.py copied it
# (DatabaseFreeConsumer.__call__, dispatch, websocket_disconnect and
# ControlledConsumer's use of await_many_dispatch).
CONSUMER_LOOP = Path(__file__).parent / "contracts" / "channels-consumer-loop.py.txt"


@pytest.fixture
def fresh_probe():
    daphne_sockets.forget_probe()
    yield
    daphne_sockets.forget_probe()


def test_every_reach_is_there_in_the_pinned_libraries():
    assert missing_reaches() == []


def test_the_probe_finds_instance_attributes_and_misses_what_is_gone(monkeypatch):
    monkeypatch.setattr(
        daphne_sockets,
        "REACHES",
        {"asyncio.Queue": ("_getters", "_gone"), "daphne.server.Gone": ("connections",)},
    )

    assert missing_reaches() == ["asyncio.Queue._gone", "daphne.server.Gone"]


async def handle_reply(protocol, message) -> None:
    """Stands for daphne's Server.handle_reply: what daphne hands a consumer as its `send`."""


class Server:
    connections: dict = {}
    handle_reply = handle_reply


class Protocol:
    def sendPreparedMessage(self, prepared) -> None:  # noqa: N802 - autobahn's name
        pass


def daphne_like_send():
    return functools.partial(Server().handle_reply, Protocol())


@pytest.mark.usefixtures("fresh_probe")
def test_a_missing_name_sends_every_socket_the_public_way_with_one_log_line(monkeypatch, caplog):
    monkeypatch.setattr(daphne_sockets, "REACHES", {**daphne_sockets.REACHES, "asyncio.Queue": ("_renamed",)})

    with caplog.at_level(logging.INFO, logger="tracker.live.daphne_sockets"):
        for _ in range(3):
            assert direct_writer(daphne_like_send()) is None
            receive = object()
            assert own_inbox(receive, daphne_like_send()) is receive  # type: ignore[arg-type]

    (line,) = caplog.records  # once, at the first socket
    assert line.levelno == logging.WARNING
    assert "asyncio.Queue._renamed" in line.message and "public ASGI path" in line.message


@pytest.mark.usefixtures("fresh_probe")
def test_the_setting_turns_direct_writes_off_but_keeps_the_socket(settings, caplog):
    settings.LIVE_DIRECT_WRITES = False
    with caplog.at_level(logging.INFO, logger="tracker.live.daphne_sockets"):
        writer = direct_writer(daphne_like_send())

    assert writer is not None and writer.direct is False
    assert caplog.messages[0].startswith("live sockets: direct writes off (LIVE_DIRECT_WRITES)")


@pytest.mark.usefixtures("fresh_probe")
def test_with_everything_there_the_direct_path_is_taken(caplog):
    with caplog.at_level(logging.INFO, logger="tracker.live.daphne_sockets"):
        writer = direct_writer(daphne_like_send())

    assert writer is not None and writer.direct is True
    assert caplog.messages == [caplog.messages[0]]
    assert caplog.messages[0].startswith("live sockets: direct writes engaged (daphne ")


def test_the_consumer_loop_copy_matches_the_installed_channels():
    installed = "".join(
        inspect.getsource(function) + "\n"
        for function in (
            AsyncConsumer.__call__,
            AsyncConsumer.dispatch,
            AsyncWebsocketConsumer.websocket_disconnect,
            await_many_dispatch,
        )
    )
    copied = CONSUMER_LOOP.read_text()

    difference = "".join(difflib.unified_diff(copied.splitlines(True), installed.splitlines(True)))
    assert installed == copied, (
        "Channels' consumer loop changed: bring tracker/live/sockets.py (DatabaseFreeConsumer, "
        f"ControlledConsumer) in step, then write the new source to {CONSUMER_LOOP.name}\n{difference}"
    )
