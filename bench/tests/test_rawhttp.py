"""bench.rawhttp: the bare HTTP server the pages scenario measures the machine's pauses with."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from bench.cluster import ROOT
from bench.common import free_port, wait_for
from bench.rawhttp import ANSWER

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def read_answers(connection: socket.socket, count: int) -> bytes:
    received = b""
    deadline = time.monotonic() + 5
    while len(received) < count * len(ANSWER) and time.monotonic() < deadline:
        received += connection.recv(65536)
    return received


def test_every_request_on_a_kept_alive_connection_gets_the_answer_however_it_arrives():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.rawhttp", str(port)], cwd=ROOT)
    try:
        wait_for(
            lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None,
            timeout=10,
            what="the bare HTTP server",
        )
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(REQUEST + REQUEST)  # two in one segment
            assert read_answers(connection, 2) == ANSWER * 2
            connection.sendall(REQUEST[:10])  # one split over two
            time.sleep(0.1)
            connection.sendall(REQUEST[10:])
            assert read_answers(connection, 1) == ANSWER
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0  # SIGTERM stops it cleanly
