"""Scenario 5: viewer pages, requests per second and p99.

GET /example (the room page, rendered with the room list read through the
tracker API in-process) and GET /tracker/api/rooms/example/stream (stream
selection), each by `concurrency` kept-alive connections back to back, with
the example room live.
"""

from __future__ import annotations

from typing import Any

from .loadgen import run_in_process, summary

PATHS = {"/example": "room page", "/tracker/api/rooms/example/stream?format=hls": "stream selection"}


def run(
    ctx, *, port: int, server_pid: int | None = None, levels: list[int], warmup: float, duration: float, log=print
) -> list[dict[str, Any]]:
    rows = []
    for path, label in PATHS.items():
        for concurrency in levels:
            result = run_in_process(
                ctx, port, "get", concurrency, warmup, duration, {"path": path, "server_pid": server_pid}
            )
            row = {"path": path, "label": label, "concurrency": concurrency, **summary(result)}
            log(
                f"  {label} GET {path}, {concurrency} clients: {row['rate']:,.0f}/s, p50 {row['p50'] * 1000:.1f} ms, "
                f"p99 {row['p99'] * 1000:.1f} ms, non-200/errors {row['bad']}, "
                f"daphne CPU {row['server_cpu'] * 100:.0f} % = {row['cpu_per_request'] * 1000:.2f} ms per request"
            )
            rows.append(row)
    return rows
