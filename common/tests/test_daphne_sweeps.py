"""daphne's table of connections: walked every Nth round, finished entries dropped at once (common/daphne_sweeps.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from daphne.server import Server

from common import daphne_sweeps


class ReapingServer(Server):
    """daphne's real Server, with the reaping installed on this subclass only."""

    create_application = daphne_sweeps.reaping_create_application(Server.create_application)
    protocol_disconnected = daphne_sweeps.reaping_protocol_disconnected(Server.protocol_disconnected)


def served(application) -> tuple[ReapingServer, object]:
    """A server (not listening) with one connection whose application has been started."""
    server = ReapingServer(application, endpoints=["tcp:port=0:interface=127.0.0.1"])
    server.connections = {}  # as its run() starts, which would also listen
    protocol = object()
    server.protocol_connected(protocol)
    server.create_application(protocol, {"type": "http"})
    return server, protocol


async def settled() -> None:
    for _ in range(3):  # the application's last step, then its done callbacks
        await asyncio.sleep(0)


def test_daphne_still_sets_its_next_rounds_as_assumed():
    # Fails on a daphne release that renamed the walks or changed their pace:
    # the sparse rounds would then be left off (see probe) and idle sockets cost more.
    assert daphne_sweeps.probe() == []


@pytest.mark.parametrize("every", [1, 5])
def test_only_every_nth_round_walks_and_every_round_sets_the_next(every, monkeypatch):
    class Server:
        walks = 0

        def walk(self) -> None:
            self.walks += 1  # daphne's walk, which sets its own next round

        application_checker = daphne_sweeps.sparse(walk, "application_checker", every)

    scheduled = []
    monkeypatch.setattr(daphne_sweeps, "call_later", lambda seconds, then: scheduled.append((seconds, then)))
    server = Server()

    for _ in range(10):
        server.application_checker()

    assert server.walks == 10 // every
    assert len(scheduled) == 10 - 10 // every
    assert all(seconds == 1 and then == server.application_checker for seconds, then in scheduled)


async def test_an_answered_request_is_dropped_as_its_application_ends():
    async def application(scope, receive, send):
        server.protocol_disconnected(protocol)  # as daphne's finish() does, inside the answer's send
        await asyncio.sleep(0)

    server, protocol = served(application)
    assert protocol in server.connections
    await settled()
    assert protocol not in server.connections  # not a walk's second (or five) later


@pytest.mark.parametrize("ending", ["returns", "cancelled"])
async def test_a_closed_socket_stays_until_its_application_ends(ending):
    ended = asyncio.Event()

    async def application(scope, receive, send):
        await ended.wait()  # a consumer still handling the disconnect

    server, protocol = served(application)
    server.protocol_disconnected(protocol)
    await settled()
    assert "disconnected" in server.connections[protocol]
    if ending == "returns":
        ended.set()
    else:
        server.connections[protocol]["application_instance"].cancel()  # as the walk does past the close timeout
    await settled()
    assert protocol not in server.connections


async def test_an_open_connection_whose_application_ended_stays():
    async def application(scope, receive, send):
        pass

    server, protocol = served(application)
    await settled()
    assert protocol in server.connections  # daphne's walk decides about it, as before


async def test_a_failed_application_is_logged_and_dropped_at_once_and_the_walk_says_it_no_more(caplog, monkeypatch):
    async def application(scope, receive, send):
        raise RuntimeError("boom")

    server, protocol = served(application)
    await settled()
    with caplog.at_level(logging.ERROR):
        server.protocol_disconnected(protocol)
        server.protocol_disconnected(protocol)  # reported twice, as a rejected websocket does
        assert protocol not in server.connections
        monkeypatch.setattr("daphne.server.reactor.callLater", lambda *args: None)
        server.application_checker()
    assert caplog.text.count("Exception inside application: boom") == 1
    assert "RuntimeError" in caplog.text  # with its traceback


async def test_a_close_reported_again_after_the_reap_is_ignored():
    async def application(scope, receive, send):
        pass

    server, protocol = served(application)
    await settled()
    server.protocol_disconnected(protocol)
    assert protocol not in server.connections
    server.protocol_disconnected(protocol)  # daphne's own would raise KeyError here
    assert protocol not in server.connections


def test_a_site_process_walks_sparsely_reaps_at_once_and_says_so(site, tmp_path):
    log = next(tmp_path.glob("*-0.log")).read_text()  # daphne's (the site fixture logs there)
    assert "daphne's connection sweeps: every 5 s and 10 s, finished entries at once (DAPHNE_SWEEP_EVERY=5)" in log
