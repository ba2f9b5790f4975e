"""Scenario 6: a keynote. N viewers over four rooms (70 % in one), churning, while
encoders report, a talk ends and a room goes offline and comes back.

On fresh daphne processes (viewers split evenly over two):
  * 30 encoders heartbeat every 5 s (one per viewer room, the rest in the
    ingest rooms), spread over the interval, from their own process;
  * two viewer processes open N sockets; each sends `watch` for its room and
    its playback health like a room page, then health every 30 s;
  * the steady window starts: 1 % of the sockets per second leave and as
    many join (each new one: handshake, snapshot, watch, health);
  * at a quarter of the window hall-2's encoder reports no stream (the room
    goes offline), at half a talk boundary moves now/next in the four rooms,
    at three quarters hall-2 comes back with a fresh stream URL.
The encoders report to, and an operator's dashboard socket is on, a third
daphne that holds no viewers, as the shipped nginx site routes them
(`streaming_control`); the operator times heartbeat -> screen
(bench/screen.py, client counts only: viewers get nothing of it) every 0.2 s
through the window. Measured per daphne process over the window: CPU as a share of one core,
resident memory per socket held (grown since before the first viewer), and
messages each viewer received per second (all sockets, from the clients'
counts). For both live/offline changes: the time from the moment before the
heartbeat POST until each socket open at that moment had the room message;
sockets that left meanwhile are not counted, sockets still open without it
are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid
from typing import Any

from .cluster import ROOT, Cluster, ingest_encoder
from .common import Children, cpu_seconds, percentile, rss_bytes
from .crowd import crowd_process
from .encoders import encoders_process
from .fanout import _touch, ws_target
from .screen import screen_process

VIEWER_PROCESSES = 2
DAPHNES = 2
CHURN_PER_SECOND = 0.01
HEARTBEAT_SECONDS = 5
ENCODERS = 30
ROOM_CAMERAS = {"keynote": "keynote-cam", "example": "example-cam", "hall-2": "hall-cam", "fanout": "fan-1"}
FLAPPING_ROOM, FLAPPING_CAMERA = "hall-2", "hall-cam"
OPERATOR_SPACING = 0.2  # seconds between the operator's heartbeat -> screen samples


def encoder_plan(cluster: Cluster, ports: list[int]) -> list[dict[str, Any]]:
    named = list(ROOM_CAMERAS.items())
    named += [ingest_encoder(i) for i in range(ENCODERS - len(named))]
    return [
        {"room": room, "name": name, "token": cluster.tokens[name], "port": ports[i % len(ports)]}
        for i, (room, name) in enumerate(named)
    ]


def run(
    ctx,
    *,
    cluster: Cluster,
    n: int,
    duration: float,
    round_timeout: float,
    profile=lambda pid: contextlib.nullcontext(),
    log=print,
) -> dict[str, Any]:
    """`profile(pid)`: a context manager sampling that process over the steady window."""
    used = cluster.add_daphnes(DAPHNES)
    ports, pids = [port for port, _ in used], [process.pid for _, process in used]
    # The encoders' and operators' process, as the shipped nginx site routes them (ops/nginx/streaming.conf).
    [(control_port, control)] = cluster.add_daphnes(1)
    targets = [ws_target(port) for port in ports]
    asyncio.run(_touch([*targets, ws_target(control_port)]))  # start each hub
    time.sleep(0.5)
    base_rss = {pid: rss_bytes(pid) for pid in pids}
    children = Children(ctx, "keynote")
    start = children.start
    ask = children.ask

    try:
        encoders = start(encoders_process, encoder_plan(cluster, [control_port]), HEARTBEAT_SECONDS)
        time.sleep(HEARTBEAT_SECONDS + 1)  # every encoder has reported: the rooms are live
        # Rotated, so both processes spread their sockets over every daphne.
        crowds = [start(crowd_process, targets[i:] + targets[:i]) for i in range(VIEWER_PROCESSES)]
        share = [n // VIEWER_PROCESSES + (1 if i < n % VIEWER_PROCESSES else 0) for i in range(VIEWER_PROCESSES)]
        for pipe, total in zip(crowds, share, strict=True):
            pipe.send(("connect", total))
        held: dict[str, int] = {}
        failed = 0
        for pipe in crowds:
            if not pipe.poll(120 + n / 50):
                raise TimeoutError(f"keynote: connecting {n} viewers took too long")
            answer = pipe.recv()
            failed += answer["failed"]
            for url, count in answer["held"].items():
                held[url] = held.get(url, 0) + count
        time.sleep(2)  # the first counts settle
        held_by_pid = {pid: held.get(url, 0) for pid, (url, _) in zip(pids, targets, strict=True)}
        rss_idle = {pid: (rss_bytes(pid) - base_rss[pid]) / max(held_by_pid[pid], 1) for pid in pids}
        log(f"  keynote N={n}: {sum(held.values())} held ({failed} failed); churn and events for {duration:.0f} s")

        sampling = contextlib.ExitStack()
        sampling.enter_context(profile(pids[0]))
        for pipe in crowds:
            ask(pipe, ("start", CHURN_PER_SECOND), 10)
        cpu0, t_start = {pid: cpu_seconds(pid) for pid in [*pids, control.pid]}, time.monotonic()
        operator = start(
            screen_process,
            control_port,
            cluster.tokens["screen-1"],
            cluster.operator_session,
            int(duration / OPERATOR_SPACING),
            OPERATOR_SPACING,
            duration * 0.9,
            False,
        )
        changes: list[dict[str, Any]] = []

        def until(fraction: float) -> None:
            time.sleep(max(0.0, t_start + fraction * duration - time.monotonic()))

        def change(what: str, url: str | None, patterns: list[str]) -> None:
            for pipe in crowds:
                ask(pipe, ("arm", patterns), 10)
            t0 = ask(encoders, ("change", FLAPPING_CAMERA, url), 30)
            answers = [ask(pipe, ("collect", round_timeout), round_timeout + 30) for pipe in crowds]
            got = [arrival - t0 for answer in answers for arrival in answer["arrivals"]]
            changes.append(
                {
                    "what": what,
                    "latencies": got,
                    "lost": sum(a["missing"] for a in answers),
                    "left": sum(a["left"] for a in answers),
                }
            )
            log(
                f"  keynote {what}: {len(got)} viewers, p50 {percentile(got, 50) * 1000:.0f} ms, "
                f"p99 {percentile(got, 99) * 1000:.0f} ms, lost {changes[-1]['lost']}"
            )

        boundary = subprocess.Popen(
            [sys.executable, "-m", "bench.boundary", str(t_start + duration / 2), *ROOM_CAMERAS],
            cwd=ROOT,
            env=cluster.env,
        )
        until(0.25)
        name = f'"name": "{FLAPPING_ROOM}"'
        change("offline", None, [name, '"live": false'])
        until(0.75)
        marker = f"back-{uuid.uuid4().hex[:12]}"
        change("online", f"https://cdn.example/{FLAPPING_ROOM}/{marker}.m3u8", [name, marker])
        until(1.0)
        window = time.monotonic() - t_start
        cpu = {pid: (cpu_seconds(pid) - cpu0[pid]) / window for pid in [*pids, control.pid]}
        sampling.close()
        stats = [ask(pipe, ("stats",), 10) for pipe in crowds]
        rss_end = {pid: (rss_bytes(pid) - base_rss[pid]) / max(held_by_pid[pid], 1) for pid in pids}
        boundary.wait(30)
        beats = ask(encoders, ("stop",), 10)
        if not operator.poll(30):
            raise TimeoutError("keynote: the operator's heartbeat-to-screen samples did not finish")
        screen = operator.recv()
    finally:
        children.stop()
        for _, process in [*used, (control_port, control)]:
            cluster.stop(process)
    messages = sum(s["messages"] for s in stats)
    socket_seconds = sum(s["socket_seconds"] for s in stats)
    latencies = [t for c in changes for t in c["latencies"]]
    result = {
        "n": n,
        "held": sum(held.values()),
        "connect_failed": failed + sum(s["failed"] for s in stats),
        "seconds": window,
        "processes": [
            {"cpu": cpu[pid], "rss_idle": rss_idle[pid], "rss_end": rss_end[pid], "held": held_by_pid[pid]}
            for pid in pids
        ],
        "control_cpu": cpu[control.pid],
        "messages_per_viewer_s": messages / max(socket_seconds, 1e-9),
        "joined": sum(s["joined"] for s in stats),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "lost": sum(c["lost"] for c in changes),
        "changes": len(changes),
        "heartbeats": beats,
        "operator_p50": percentile(screen["to_screen"], 50),
        "operator_p99": percentile(screen["to_screen"], 99),
        "operator_samples": len(screen["to_screen"]),
        "operator_lost": screen["lost"],
    }
    log(
        f"  keynote N={n}: CPU per process "
        + ", ".join(f"{p['cpu'] * 100:.0f} %" for p in result["processes"])
        + f" (control {result['control_cpu'] * 100:.0f} %)"
        + f"; {result['messages_per_viewer_s']:.2f} messages per viewer per second; "
        + ", ".join(f"{p['rss_idle'] / 1024:.1f} KB" for p in result["processes"])
        + f" per socket; live/offline p99 {result['p99'] * 1000:.0f} ms; {result['joined']} joined during the run; "
        f"heartbeats {beats['sent']} sent, {beats['refused']} refused; heartbeat to operator screen "
        f"p50 {result['operator_p50'] * 1000:.1f} / p99 {result['operator_p99'] * 1000:.1f} ms "
        f"({result['operator_samples']} samples, {result['operator_lost']} lost)"
    )
    return result
