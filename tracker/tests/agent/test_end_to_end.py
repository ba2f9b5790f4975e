"""The agent against the real tracker: daphne and the worker (the root conftest's site)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from testing.processes import ROOT, free_port, running, wait_for
from tracker.agent.backoff import Backoff
from tracker.agent.loop import Agent
from tracker.agent.sources import build_sources
from tracker.agent.transports import build_transport

from .servers import RealTracker

STATIC = {
    "type": "static",
    "streams": [
        {"format": "hls", "url": "https://cdn.example.org/hd.m3u8", "quality": "hd", "clients": 3, "bitrate": 2_500_000}
    ],
}


def room(site_url: str, name: str = "example") -> dict:
    with urllib.request.urlopen(f"{site_url}/tracker/api/rooms/{name}", timeout=5) as response:
        return json.load(response)


def agent_for(
    tracker: RealTracker, mode: str, *, room: str = "example", encoder: str = "agent-1", source: dict = STATIC
) -> Agent:
    token = tracker.legacy_secret if mode == "legacy" else tracker.token_for(room, encoder)
    return Agent(
        room=room,
        encoder=encoder,
        interval=5,
        sources=build_sources([source], timeout=2),
        transport=build_transport(mode, tracker.url, token, timeout=5),
        backoff=Backoff(base=0.1, cap=0.5),
    )


def test_agent_auto_transport_makes_room_live(real_tracker):
    agent = agent_for(real_tracker, "auto")

    agent.beat()
    # Read the room before closing: a closed websocket shows the encoder disconnected at once.
    detail = room(real_tracker.url)
    agent.close()

    assert agent.ok, agent.state
    assert agent.transport.name == "websocket"
    assert detail["live"] is True
    (endpoint,) = detail["endpoints"]
    assert endpoint["encoder"] == "agent-1"
    # The tracker adds the bandwidth the agent did not measure: clients x bitrate.
    assert endpoint["streams"] == [{**STATIC["streams"][0], "bandwidth": 3 * 2_500_000}]


def test_agent_websocket_transport_to_real_tracker(real_tracker):
    agent = agent_for(real_tracker, "websocket")

    agent.beat()
    agent.beat()
    detail = room(real_tracker.url)
    agent.close()

    assert agent.ok and agent.state == "reporting example as agent-1 over websocket"
    assert [endpoint["encoder"] for endpoint in detail["endpoints"]] == ["agent-1"]


def test_two_agents_with_one_token_back_off_instead_of_replacing_each_other(real_tracker, agent_log):
    token = real_tracker.token_for("example", "agent-1")
    first, second = (
        Agent(
            room="example",
            encoder="agent-1",
            interval=5,
            sources=build_sources([STATIC], timeout=2),
            transport=build_transport("websocket", real_tracker.url, token, timeout=5),
            backoff=Backoff(base=0.1, cap=0.5),
            replaced_backoff=Backoff(base=120, cap=900, rng=lambda: 1.0),
        )
        for _ in range(2)
    )

    def connects_over(newer: Agent, older: Agent) -> float:
        """`newer` beats; the tracker closes `older`'s socket with 4409 (through the Channels layer)."""
        socket = older.transport.connection
        delay = newer.beat()
        wait_for(lambda: socket.close_code is not None, timeout=5, what="the 4409 close")
        return delay

    first.beat()
    connects_over(second, first)
    waits = [first.beat()]  # a beat after a wait reconnects (the run loop sleeps the delay first)...
    connects_over(first, second)
    waits.append(second.beat())
    connects_over(second, first)  # ...so two agents take turns, each wait longer than its last
    waits.append(first.beat())
    first.close()
    second.close()

    assert waits == [120, 120, 240]
    assert not first.ok and second.ok
    warning = (
        "replaced by another connection with this token (closed 4409): is a second agent running with the same token?"
    )
    assert [line for line in agent_log() if line.startswith("replaced")] == [
        f"{warning} Waiting 120 s before reconnecting",
        f"{warning} Waiting 120 s before reconnecting",
        f"{warning} Waiting 240 s before reconnecting",
    ]


def test_agent_http_transport_wrong_token_is_refused(real_tracker):
    agent = agent_for(real_tracker, "http")
    agent.transport.token = "not-the-token"

    agent.beat()
    agent.close()

    assert not agent.ok
    assert agent.state is not None and agent.state.startswith("token refused: HTTP 40")


def test_agent_legacy_mode_registers_with_real_tracker(real_tracker):
    webm = {"format": "webm", "url": "https://cdn.example.org/hd.webm", "quality": "high", "clients": 3, "bitrate": 1e6}
    agent = agent_for(real_tracker, "legacy", source={"type": "static", "streams": [webm]})

    agent.beat()
    agent.close()

    assert agent.ok, agent.state
    (endpoint,) = room(real_tracker.url)["endpoints"]
    # The old protocol carries no URLs: the tracker builds them from the room's template and the sender's address.
    assert endpoint["encoder"] == "legacy-127.0.0.1"
    assert endpoint["streams"] == [
        {
            "format": "webm",
            "quality": "high",
            "url": "http://127.0.0.1:8080/webcast-high.webm",
            "clients": 3,
            "bitrate": 1_000_000,
            "bandwidth": 3_000_000,
        }
    ]


def agent_process(config: Path, token: str, *options: str) -> subprocess.Popen:
    """`python -m tracker.agent` as systemd runs it, reporting every second, verbose."""
    return subprocess.Popen(
        [sys.executable, "-m", "tracker.agent", "-c", str(config), "--interval", "1", "-v", *options],
        cwd=ROOT,
        env={**os.environ, "ENCODER_AGENT_TOKEN": token},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_agent_module_runs_with_verbose_lines(real_tracker, tmp_path: Path):
    config = tmp_path / "agent.json"
    config.write_text(
        json.dumps({"tracker": real_tracker.url, "room": "hall-2", "encoder": "proc-1", "sources": [STATIC]})
    )
    token = real_tracker.token_for("hall-2", "proc-1")

    process = agent_process(config, token, "--count", "3")
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the agent is connected and reporting now
        detail = room(real_tracker.url, "hall-2")
        rest, errors = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 0, errors
    lines = [first.strip(), *rest.splitlines()]
    assert len(lines) == 3
    assert all(re.fullmatch(r"Registered hall-2 at \S+ result OK", line) for line in lines), lines
    assert [endpoint["encoder"] for endpoint in detail["endpoints"]] == ["proc-1"]
    assert "reporting hall-2 as proc-1 over" in errors  # one state line on stderr
    assert token not in errors  # the token is never logged


def test_agent_stops_with_exit_3_when_its_token_is_revoked(real_tracker, site, tmp_path: Path):
    config = tmp_path / "agent.json"
    config.write_text(
        json.dumps({"tracker": real_tracker.url, "room": "hall-2", "encoder": "proc-revoked", "sources": [STATIC]})
    )
    process = agent_process(config, real_tracker.token_for("hall-2", "proc-revoked"))
    try:
        assert process.stdout is not None
        assert process.stdout.readline().endswith("result OK\n")  # connected and reporting
        site.manage("encoder", "revoke", "proc-revoked")
        rest, errors = process.communicate(timeout=30)  # no --count: only the revocation stops it
    finally:
        process.kill()

    assert process.returncode == 3, errors  # ops/encoder-agent.service: RestartPreventExitStatus=3
    assert rest.splitlines()[-1].endswith("result ERROR closed 4403")
    revoked = [line for line in errors.splitlines() if "token revoked" in line]
    assert len(revoked) == 1 and revoked[0].endswith(
        "token revoked by the tracker (closed 4403): stopping; give the encoder a new token and restart"
    ), errors


def test_agent_reconnects_after_the_real_tracker_restarts(site_env, tmp_path):
    port = free_port()
    with running(site_env, tmp_path, port=port) as site:
        token = site.add_encoder("example", "agent-1")
        agent = agent_for(RealTracker(url=site.url, token_for=lambda room, name: token, legacy_secret=""), "websocket")
        agent.beat()
        before = agent.ok
    agent.beat()  # the tracker is gone
    while_down = agent.ok
    with running(site_env, tmp_path, port=port) as site:  # back on the same address
        agent.beat()
        detail = room(site.url)
        agent.close()

    assert (before, while_down, agent.ok) == (True, False, True)
    assert [endpoint["encoder"] for endpoint in detail["endpoints"]] == ["agent-1"]
