"""The run loop: heartbeats, state-change logging, metrics errors, reconnects."""

from __future__ import annotations

import io
import json
import re
import threading

from tracker.agent.backoff import Backoff
from tracker.agent.loop import Agent
from tracker.agent.sources import build_sources
from tracker.agent.transports import HttpTransport, WebsocketTransport, build_transport

from .servers import TOKEN, Request, json_answer, recording

STATIC = {"type": "static", "streams": [{"format": "hls", "url": "https://cdn.example.org/a.m3u8", "quality": "hd"}]}


def make_agent(transport, sources=(STATIC,), **kwargs) -> Agent:
    return Agent(
        room="example",
        encoder="cam-1",
        interval=10,
        sources=build_sources(list(sources), timeout=2),
        transport=transport,
        backoff=kwargs.pop("backoff", Backoff(base=1, cap=8, rng=lambda: 1.0)),
        **kwargs,
    )


def test_verbose_prints_registered_line_per_heartbeat(ws_tracker, agent_log):
    out = io.StringIO()
    agent = make_agent(WebsocketTransport(ws_tracker.url, TOKEN, timeout=2), verbose=out)

    delays = [agent.beat() for _ in range(3)]
    agent.close()

    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert all(re.fullmatch(r"Registered example at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 result OK", x) for x in lines)
    assert delays == [10, 10, 10]  # the tracker's `next`
    # One state line for three heartbeats.
    assert agent_log() == ["reporting example as cam-1 over websocket"]


def test_expected_mount_missing_is_an_error_while_the_other_mounts_still_report(ws_tracker, status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-one-source.json")
    icecast = {"type": "icecast", "url": status_server.url + "/status-json.xsl", "expect": ["/main.mp3", "/hall.mp3"]}
    agent = make_agent(WebsocketTransport(ws_tracker.url, TOKEN, timeout=2), sources=[icecast])

    agent.beat()
    agent.close()

    (frame,) = ws_tracker.frames
    assert [stream["url"] for stream in frame["streams"]] == ["http://localhost:8000/main.mp3"]
    assert frame["metrics"]["errors"] == [{"source": "icecast", "reason": "expected mount /hall.mp3 has no source"}]


def test_failing_source_goes_into_metrics_errors_and_logs_once(ws_tracker, status_server, agent_log):
    status_server.routes["/status-json.xsl"] = recording("icecast-invalid-startup.json")
    icecast = {"type": "icecast", "url": status_server.url + "/status-json.xsl"}
    agent = make_agent(WebsocketTransport(ws_tracker.url, TOKEN, timeout=2), sources=[STATIC, icecast])

    agent.beat()
    agent.beat()
    status_server.routes["/status-json.xsl"] = recording("icecast-one-source.json")
    agent.beat()
    agent.close()

    first, _, last = ws_tracker.frames
    error = {"source": "icecast", "reason": "status-json.xsl is not valid JSON (JSONDecodeError)"}
    assert first["metrics"] == {"errors": [error]}
    assert [s["format"] for s in first["streams"]] == ["hls"]  # the working source still reports
    assert last["metrics"] == {"errors": []}
    assert [s["clients"] for s in last["streams"]] == [0, 7]
    assert agent_log() == [
        "source icecast failing: status-json.xsl is not valid JSON (JSONDecodeError)",
        "reporting example as cam-1 over websocket",
        "source icecast recovered",
    ]


def test_metrics_dropped_when_tracker_predates_them(status_server, agent_log):
    def old_tracker(request: Request):
        if "metrics" in json.loads(request.body):
            return json_answer(400, {"error": "invalid", "message": "is not a known field", "field": "metrics"})
        return json_answer(200, {"ok": True, "next": 10})

    status_server.routes["/tracker/api/heartbeat"] = old_tracker
    agent = make_agent(HttpTransport(status_server.url, TOKEN, timeout=2))

    agent.beat()
    agent.beat()

    sent = [json.loads(r.body) for r in status_server.requests]
    assert ["metrics" in body for body in sent] == [True, False, False]
    assert agent.ok
    assert agent_log() == [
        "the tracker does not accept metrics (an older version): source errors stay in this log",
        "reporting example as cam-1 over http",
    ]


def test_reconnect_after_tracker_restart_backs_off_then_recovers(ws_tracker, agent_log):
    out = io.StringIO()
    agent = make_agent(WebsocketTransport(ws_tracker.url, TOKEN, timeout=2), verbose=out)

    agent.beat()
    ws_tracker.stop()
    delays = [agent.beat() for _ in range(4)]
    ws_tracker.start()  # same port
    after = agent.beat()
    agent.close()

    assert delays == [1, 2, 4, 8]  # exponential, capped (jitter pinned to its top)
    assert after == 10
    assert len(ws_tracker.frames) == 2
    unreachable = f"tracker unreachable: cannot reach ws://127.0.0.1:{ws_tracker.port}/tracker/ws/encoder/"
    log = agent_log()
    assert len(log) == 3  # up, down once (not per retry), up again
    assert log[0] == log[2] == "reporting example as cam-1 over websocket"
    assert log[1].startswith(unreachable)
    assert out.getvalue().count("result ERROR") == 4


def test_run_loop_reconnects_by_itself(ws_tracker, agent_log):
    stop = threading.Event()
    ws_tracker.answer = lambda frame: {"ok": True, "next": 1}
    agent = make_agent(
        build_transport("auto", ws_tracker.url, TOKEN, timeout=1),
        backoff=Backoff(base=0.05, cap=0.2),
        stop=stop,
    )
    ws_tracker.stop()  # the tracker is down when the agent starts
    runner = threading.Thread(target=agent.run)
    runner.start()
    try:
        threading.Event().wait(0.3)
        ws_tracker.start()
        deadline = threading.Event()
        for _ in range(100):  # bounded: at most 5 s
            if ws_tracker.frames:
                break
            deadline.wait(0.05)
    finally:
        stop.set()
        runner.join(timeout=5)

    assert ws_tracker.frames, agent_log()
    assert not runner.is_alive()
    assert agent_log()[-1] == "reporting example as cam-1 over websocket"


def test_auth_rejection_is_logged_once_and_backs_off(ws_tracker, agent_log):
    agent = make_agent(WebsocketTransport(ws_tracker.url, "revoked-token", timeout=2))

    delays = [agent.beat(), agent.beat()]
    agent.close()

    assert delays == [1, 2]
    assert agent_log() == ["token refused: closed 4403 token not accepted"]
