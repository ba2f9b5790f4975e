"""Web processes stopping under live viewers: politely (SIGTERM) and not (kill -9)."""

from __future__ import annotations

import contextlib
import signal
import time

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import running


def test_sigterm_tells_viewers_to_reconnect_elsewhere_then_stops(site_env, tmp_path):
    with running(site_env, tmp_path, worker=False) as site, contextlib.ExitStack() as stack:
        daphne = site.processes[0]
        url = site.url.replace("http", "ws") + "/ws/live/"
        viewers = [stack.enter_context(connect(url, origin=site.url, open_timeout=5)) for _ in range(20)]
        for viewer in viewers:
            viewer.recv(timeout=5)  # the snapshot
        daphne.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        codes = []
        for viewer in viewers:
            try:
                viewer.recv(timeout=5)
            except ConnectionClosed as closed:
                codes.append(closed.rcvd.code if closed.rcvd else None)
        told_in = time.monotonic() - asked
        exit_code = daphne.wait(timeout=10)
        stopped_in = time.monotonic() - asked
    log = next(tmp_path.glob("*-0.log")).read_text()
    print(f"\ndaphne SIGTERM: 20 viewers told in {told_in:.2f} s, process gone after {stopped_in:.2f} s")

    assert codes == [4503] * 20  # feed.js: reconnect at once, spread over a few seconds
    assert told_in < 1 and stopped_in < 5
    assert exit_code == 0
    assert "told 20 sockets to reconnect elsewhere" in log
    assert "open-file limit" in log
