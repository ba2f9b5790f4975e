"""Scenarios 2 and 4: push fan-out to N viewers, and what idle viewers cost.

For each server variant, viewer processes open sockets in steps (N = 100,
1,000, ...) on the same server without reconnecting. At each step:
  * memory: resident memory of the server process(es) minus the figure
    before the first viewer, divided by the sockets held;
  * idle CPU: CPU time the server process(es) used while nobody sent anything;
  * fan-out: `rounds` times, one heartbeat POST changes the `fanout` room
    (its stream URL carries a fresh marker); the delivery time of a socket is
    its arrival time minus the moment before the POST was sent (one system-
    wide monotonic clock). Sockets that have not seen the marker when the
    round times out are lost. The CPU the server(s) and the viewer processes
    used during the rounds is divided by the messages delivered.
Variants (chosen in __main__): the raw `websockets` limit (fed by the same
Redis channel, triggered by a POST to daphne 1, which holds no viewers
then), one fresh daphne process, and two fresh daphne processes with the
viewers split evenly (the POST goes to the first).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import time
import uuid
from typing import Any

from websockets.asyncio.client import connect

from .common import cpu_seconds, percentile, rss_bytes
from .httpclient import heartbeat_body, heartbeat_headers
from .viewers import viewer_process

VIEWER_PROCESSES = 2


def ws_target(port: int, host: str = "127.0.0.1") -> tuple[str, str]:
    return f"ws://{host}:{port}/ws/live/", f"http://{host}:{port}"


async def _touch(targets: list[tuple[str, str]]) -> None:
    for url, origin in targets:
        async with connect(url, origin=origin, compression=None, open_timeout=10) as ws:
            await asyncio.wait_for(ws.recv(), 10)


class Trigger:
    """POSTs the heartbeat that changes the fan-out room, over one kept-alive connection."""

    def __init__(self, port: int, token: str, host: str = "127.0.0.1") -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=10)
        self.headers = heartbeat_headers(token)
        self.count = 0

    def fire(self, marker: str) -> float:
        self.count += 1
        body = heartbeat_body("fanout", "fan-1", self.count, f"https://cdn.example/fanout/{marker}.m3u8")
        t0 = time.monotonic()
        self.conn.request("POST", "/tracker/api/heartbeat", body=body, headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"trigger heartbeat answered {response.status}")
        return t0

    def close(self) -> None:
        self.conn.close()


def run_variant(
    ctx,
    *,
    name: str,
    targets: list[tuple[str, str]],
    pids: list[int],
    trigger: Trigger,
    steps: list[int],
    rounds: int,
    round_timeout: float,
    idle_seconds: float,
    log=print,
) -> list[dict[str, Any]]:
    asyncio.run(_touch(targets))  # the hub of each daphne starts with its first socket
    time.sleep(0.5)
    base_rss = sum(rss_bytes(pid) for pid in pids)
    pipes, processes = [], []
    for i in range(VIEWER_PROCESSES):
        parent, child = ctx.Pipe()
        # Rotate so both processes spread their sockets over every target.
        mine = targets[i % len(targets) :] + targets[: i % len(targets)]
        process = ctx.Process(target=viewer_process, args=(child, mine), daemon=True)
        process.start()
        pipes.append(parent)
        processes.append(process)

    def ask_all(command: tuple, timeout: float) -> list[Any]:
        for pipe in pipes:
            pipe.send(command)
        answers = []
        for pipe in pipes:
            if not pipe.poll(timeout):
                raise TimeoutError(f"{name}: viewers did not answer {command[0]} within {timeout} s")
            answers.append(pipe.recv())
        return answers

    results = []
    try:
        for n in steps:
            share = [n // VIEWER_PROCESSES + (1 if i < n % VIEWER_PROCESSES else 0) for i in range(VIEWER_PROCESSES)]
            for pipe, total in zip(pipes, share, strict=False):
                pipe.send(("connect", total))
            connected = []
            for pipe in pipes:
                if not pipe.poll(60 + n / 100):
                    raise TimeoutError(f"{name}: connecting {n} viewers took too long")
                connected.append(pipe.recv())
            held = sum(c["held"] for c in connected)
            failed = sum(c["failed"] for c in connected)
            connect_seconds = max(c["seconds"] for c in connected)
            time.sleep(1.0)
            rss_per_socket = (sum(rss_bytes(pid) for pid in pids) - base_rss) / max(held, 1)
            cpu0 = sum(cpu_seconds(pid) for pid in pids)
            time.sleep(idle_seconds)
            idle_cpu = (sum(cpu_seconds(pid) for pid in pids) - cpu0) / idle_seconds
            latencies: list[float] = []
            lost = 0
            slowest_round = 0.0
            server_cpu = viewer_cpu = 0.0
            for _r in range(rounds):
                marker = f"mk-{uuid.uuid4().hex[:12]}"
                ask_all(("arm", marker), 10)
                cpu_before = sum(cpu_seconds(pid) for pid in pids)
                t0 = trigger.fire(marker)
                answers = ask_all(("collect", round_timeout), round_timeout + 30)
                server_cpu += sum(cpu_seconds(pid) for pid in pids) - cpu_before
                viewer_cpu += sum(answer["cpu"] for answer in answers)
                got = [a - t0 for answer in answers for a in answer["arrivals"]]
                latencies.extend(got)
                lost += sum(answer["missing"] for answer in answers)
                slowest_round = max(slowest_round, max(got, default=0.0))
                time.sleep(0.5)
            row = {
                "variant": name,
                "n": n,
                "held": held,
                "connect_failed": failed,
                "connects_per_s": (held / connect_seconds) if connect_seconds else 0.0,
                "rss_per_socket": rss_per_socket,
                "idle_cpu": idle_cpu,
                "rounds": rounds,
                "p50": percentile(latencies, 50),
                "p99": percentile(latencies, 99),
                "max": slowest_round,
                "lost": lost,
                # CPU per delivered message: the server's, and the viewer processes' own.
                "server_us": 1e6 * server_cpu / max(len(latencies), 1),
                "viewer_us": 1e6 * viewer_cpu / max(len(latencies), 1),
            }
            log(
                f"  fan-out {name} N={n}: held {held} (failed {failed}), p50 {row['p50'] * 1000:.1f} ms, "
                f"p99 {row['p99'] * 1000:.1f} ms, max {row['max'] * 1000:.1f} ms, lost {lost}, "
                f"{rss_per_socket / 1024:.1f} KB/socket, idle CPU {idle_cpu * 100:.1f} %, "
                f"CPU per delivery: server {row['server_us']:.0f} us, viewers {row['viewer_us']:.0f} us"
            )
            results.append(row)
    finally:
        for pipe in pipes:
            with contextlib.suppress(OSError):
                pipe.send(("stop",))
        for process in processes:
            process.join(15)
            if process.is_alive():
                process.kill()
                process.join()
    return results
