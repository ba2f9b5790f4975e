"""Scenario 5: viewer pages, requests per second and p99.

GET /example (the room page, rendered with the room list read through the
tracker API in-process) and GET /tracker/api/rooms/example/stream (stream
selection), each by `concurrency` kept-alive connections back to back, with
the example room live; at one connection also the index and /healthz, for
pauses (p99 against p50). Each path is run with the site holding each of
`site_sizes` encoder records (the rest down encoders of another room, as a
site keeps them for the history's hours): the cost must not follow the site.
With wrk, a bare HTTP server (bench/rawhttp.py) at one connection too: the
machine's own pauses in the same run, the floor of the site's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from typing import Any

import redis

from . import wrk
from .cluster import ROOT
from .common import free_port, wait_for
from .loadgen import run_in_process, summary

PATHS = {"/example": "room page", "/tracker/api/rooms/example/stream?format=hls": "stream selection"}
# Only at one connection: what a sequential client sees between the pages.
PAUSE_PATHS = {"/": "index", "/healthz": "health"}
PREFIX = "bench"  # the cluster's REDIS_PREFIX
BARE = "bare HTTP server (the machine's floor)"


def size_site(redis_url: str, records: int) -> int:
    """Make the site hold `records` encoder records (at least those the scenarios' encoders wrote): the live
    example camera, the ingest scenario's encoders if it ran, and down encoders in hall-2. Returns how many."""
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        stored = client.hgetall(f"{PREFIX}:records")
        model = json.loads(stored["example/example-cam"])
        padding = [m for m in stored if m.startswith("hall-2/pad-")]
        if padding:
            client.hdel(f"{PREFIX}:records", *padding)
            client.srem(f"{PREFIX}:members:hall-2", *padding)
        wanted = records - (len(stored) - len(padding))
        down = {
            f"hall-2/pad-{n}": json.dumps({**model, "room": "hall-2", "name": f"pad-{n}", "state": "down"})
            for n in range(max(0, wanted))
        }
        if down:
            client.hset(f"{PREFIX}:records", mapping=down)
            client.sadd(f"{PREFIX}:members:hall-2", *down)
        return int(client.hlen(f"{PREFIX}:records"))


def run(
    ctx,
    *,
    port: int,
    redis_url: str,
    server_pid: int | None = None,
    levels: list[int],
    site_sizes: list[int],
    warmup: float,
    duration: float,
    log=print,
) -> list[dict[str, Any]]:
    rows = []
    plan = [(path, label, c, size) for size in site_sizes for path, label in PATHS.items() for c in levels]
    plan += [(path, label, 1, site_sizes[0]) for path, label in PAUSE_PATHS.items()]
    for path, label, concurrency, wanted in plan:
        size = size_site(redis_url, wanted)
        result = run_in_process(
            ctx, port, "get", concurrency, warmup, duration, {"path": path, "server_pid": server_pid}
        )
        row = {"path": path, "label": label, "concurrency": concurrency, "records": size, **summary(result)}
        log(
            f"  {label} GET {path}, {concurrency} clients, {size:,} records: {row['rate']:,.0f}/s, "
            f"p50 {row['p50'] * 1000:.2f} ms, p99 {row['p99'] * 1000:.2f} ms, non-200/errors {row['bad']}, "
            f"daphne CPU {row['server_cpu'] * 100:.0f} % = {row['cpu_per_request'] * 1000:.2f} ms per request"
        )
        rows.append(row)
        if concurrency == 1 and server_pid is not None and wrk.available():
            # At one connection the Python client's own pauses land in the p99: wrk's are the server's.
            rows.append(from_wrk(port, path, f"{label}, from wrk", size, duration, server_pid, log))
    size_site(redis_url, site_sizes[0])
    if wrk.available():
        rows.append(floor(duration, log))
    return rows


def from_wrk(
    port: int, path: str, label: str, records: int, duration: float, server_pid: int, log=print
) -> dict[str, Any]:
    """One kept-alive connection from wrk for `duration` s: a row as the Python client's are."""
    row = {
        "path": path,
        "label": label,
        "concurrency": 1,
        "records": records,
        **wrk.run(port, path, 1, duration, server_pid=server_pid),
    }
    log(
        f"  {label} GET {path}, 1 client, {records:,} records: {row['rate']:,.0f}/s, "
        f"p50 {row['p50'] * 1000:.2f} ms, p99 {row['p99'] * 1000:.2f} ms (p99 {row['p99'] / row['p50']:.1f}x p50), "
        f"non-200/errors {row['bad']}"
    )
    return row


def floor(duration: float, log=print) -> dict[str, Any]:
    """wrk at one connection against a bare HTTP server: the pauses no server of ours adds."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.rawhttp", str(port)], cwd=ROOT)
    try:
        wait_for(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).status == 200,
            timeout=10,
            what="the bare HTTP server",
        )
        return from_wrk(port, "/", BARE, 0, duration, server.pid, log)
    finally:
        server.terminate()
        server.wait(timeout=10)
